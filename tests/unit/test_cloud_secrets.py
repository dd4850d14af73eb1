"""Secrets in the cloud: credentials by name at cold start, stage keys, plaintext detection.

moto's in-process AWS stands in for Secrets Manager.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shop_common.config import SettingsError
from shop_common.credential_secrets import fill_credentials, with_credentials
from shop_common.keys import all_key_names, generate_keys
from shop_local.deploy import cloud_settings
from shop_local.deploy.names import CloudNames
from shop_local.deploy.plaintext import plaintext_credentials

NAMES = CloudNames("qa")


@pytest.fixture
def secrets_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.client("secretsmanager")


def test_can_put_credentials_into_a_url() -> None:
    assert with_credentials("postgresql+pg8000://db:5432/shop_user", "shop_user", "p@ss/:w") == (
        "postgresql+pg8000://shop_user:p%40ss%2F%3Aw@db:5432/shop_user")
    # A URL that had credentials gets these instead.
    assert with_credentials("redis://old:old@cache:6379/1", "u", "p") == "redis://u:p@cache:6379/1"


def test_can_fill_every_url_from_its_named_secret(secrets_client: Any) -> None:
    for name, user in (("shop/qa/order/database", "shop_order"), ("shop/qa/order/redis", "r"),
                       ("shop/qa/order/broker", "shop-order")):
        secrets_client.create_secret(Name=name, SecretString=json.dumps(
            {"username": user, "password": f"{user}-pw"}))
    fields = fill_credentials({
        "database_url": "postgresql+pg8000://db:5432/shop_order",
        "database_secret": "shop/qa/order/database",
        "redis_url": "redis://cache:6379/3", "redis_secret": "shop/qa/order/redis",
        "amqp_url": "amqps://mq:5671/shop", "amqp_secret": "shop/qa/order/broker",
    }, client=secrets_client)
    assert fields["database_url"] == "postgresql+pg8000://shop_order:shop_order-pw@db:5432/shop_order"
    assert fields["redis_url"] == "redis://r:r-pw@cache:6379/3"
    assert fields["amqp_url"] == "amqps://shop-order:shop-order-pw@mq:5671/shop"


def test_without_secret_names_the_urls_stay_as_they_are() -> None:
    fields = {"database_url": "postgresql+pg8000://u:p@127.0.0.1/u"}
    assert fill_credentials(fields, client=object()) == fields  # the client is never asked


def test_a_missing_secret_stops_the_start_naming_the_variable(secrets_client: Any) -> None:
    with pytest.raises(SettingsError, match=r"SHOP_DATABASE_SECRET: cannot read credentials "
                                            r"from secret shop/qa/user/database"):
        fill_credentials({"database_url": "postgresql+pg8000://db/u",
                          "database_secret": "shop/qa/user/database"}, client=secrets_client)
    with pytest.raises(SettingsError, match="SHOP_REDIS_SECRET names a secret but SHOP_REDIS_URL"):
        fill_credentials({"redis_secret": "shop/qa/user/redis"}, client=secrets_client)


def test_each_stage_gets_keys_of_its_own_never_the_local_ones(
        secrets_client: Any, tmp_path: Path) -> None:
    local = tmp_path / "keys"
    generate_keys(local)
    store = cloud_settings.SettingsStore(NAMES, lambda _service: secrets_client)
    assert sorted(cloud_settings.ensure_stage_keys(store)) == sorted(all_key_names())
    stored = {key: store.secret(NAMES.private_key_secret(key)) for key in all_key_names()}
    for key, pem in stored.items():
        assert pem and "PRIVATE KEY" in pem
        assert pem != (local / f"{key}.pem").read_text()
        assert store.secret(NAMES.public_key_secret(key))
    assert cloud_settings.ensure_stage_keys(store) == []  # kept on the next deploy
    assert {k: store.secret(NAMES.private_key_secret(k)) for k in all_key_names()} == stored
    other = cloud_settings.SettingsStore(CloudNames("prod"), lambda _service: secrets_client)
    cloud_settings.ensure_stage_keys(other)
    assert other.secret(CloudNames("prod").private_key_secret("user-tokens")) != \
        stored["user-tokens"]


@pytest.mark.parametrize(("variable", "value", "reason"), [
    ("SHOP_USER_DATABASE_URL", "postgresql+pg8000://shop_user:pw-user@127.0.0.1:5432/shop_user",
     "a password in a URL"),
    ("SHOP_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/shop", "a password in a URL"),
    ("SHOP_SIGNING_KEY", "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n", "a PEM key"),
    ("SHOP_SUPERADMIN_PASSWORD", "hunter2", "a value its name calls secret"),
    ("SHOP_SEED_TOKEN", "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXg", "a JSON Web Token"),
    ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE", "an AWS access key id"),
    ("SHOP_WHATEVER", "Zq3xT9vL2mK8pR4wB7nY1cF6hJ0sD5gA",
     "a value that looks like a generated key"),
])
def test_finds_each_kind_of_plaintext_credential(variable: str, value: str, reason: str) -> None:
    [finding] = plaintext_credentials({variable: value})
    assert (finding.variable, finding.reason) == (variable, reason)
    assert value not in finding.describe()


def test_names_of_secrets_and_plain_settings_are_not_credentials() -> None:
    assert plaintext_credentials({
        "SHOP_USER_DATABASE_URL": "postgresql+pg8000://db.internal:5432/shop_user",
        "SHOP_USER_DATABASE_SECRET": "shop/dev/user/database",
        "SHOP_KEYS_SECRET_PREFIX": "shop/dev/keys/",
        "SHOP_KEYS_DIR": "/tmp/shop-keys",
        "SHOP_AMQP_URL": "amqps://b-1234.mq.us-east-1.amazonaws.com:5671/shop",
        "SHOP_ORDER_SERVICE_URL": "https://abc123.execute-api.us-east-1.amazonaws.com/api",
        "SHOP_MAIL_BACKEND": "ses", "SHOP_ENV_FILE": "", "SHOP_LOG_LEVEL": "INFO",
        "SHOP_SERVICE_NAME": "communication", "SHOP_TOKEN_AUDIENCE": "shop",
        "SHOP_ACCESS_TOKEN_TTL_SECONDS": "900", "SHOP_TOKEN_ISSUER": "shop-user-service",
    }) == []
