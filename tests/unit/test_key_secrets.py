"""Keys fetched from Secrets Manager at cold start (moto's in-process AWS stands in)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from shop_common.config import SERVICES, SettingsError
from shop_common.key_secrets import fetch_keys_from_secrets, secrets_for
from shop_common.keys import KeyRing, all_key_names, generate_keys

PREFIX = "shop/dev/keys/"


def test_only_the_user_service_gets_the_user_token_private_key() -> None:
    assert "user-tokens.pem" in secrets_for("user")
    for service in SERVICES:
        wanted = secrets_for(service)
        private = {name for name in wanted if not name.endswith(".pub.pem")}
        user_only = {"user-tokens.pem"} if service == "user" else set()
        expected = {f"service-{service}.pem"} | user_only
        assert private == expected
        assert "user-tokens.pub.pem" in wanted


@mock_aws
def test_can_load_a_keyring_from_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    source = tmp_path / "source"
    generate_keys(source)
    client = boto3.client("secretsmanager")
    for key in all_key_names():
        client.create_secret(Name=f"{PREFIX}private/{key}",
                             SecretString=(source / f"{key}.pem").read_text())
        client.create_secret(Name=f"{PREFIX}public/{key}",
                             SecretString=(source / f"{key}.pub.pem").read_text())

    target = tmp_path / "lambda-keys"
    fetch_keys_from_secrets(PREFIX, target, "order", client)
    ring = KeyRing.load(target, "order")
    assert ring.user_token_private is None
    assert not (target / "user-tokens.pem").exists()
    assert not (target / "service-product.pem").exists()
    assert set(ring.service_publics) == set(SERVICES)
    assert (target / "service-order.pem").stat().st_mode & 0o777 == 0o600


@mock_aws
def test_a_missing_secret_names_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with pytest.raises(SettingsError, match="SHOP_KEYS_SECRET_PREFIX"):
        fetch_keys_from_secrets(PREFIX, tmp_path / "k", "user", boto3.client("secretsmanager"))
