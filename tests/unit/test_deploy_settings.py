"""How a function's cloud environment is resolved from SSM and Secrets Manager, and staged."""

from __future__ import annotations

import json
from pathlib import Path

from shop_common.config import merge_sources, validate_settings
from shop_common.credential_secrets import fill_credentials
from shop_local.apps import FunctionApp
from shop_local.deploy import cloud_settings
from shop_local.deploy.names import CloudNames
from shop_local.deploy.staging import staged_config

NAMES = CloudNames("dev")


class StoreHolding(cloud_settings.SettingsStore):
    """The store's two reads, answered from memory (resolve does no other I/O)."""

    def __init__(self, params: dict[str, str], secrets: dict[str, str]) -> None:
        super().__init__(NAMES, lambda _service: None)
        self._params, self._secrets = params, secrets

    def parameters(self) -> dict[str, str]:
        return dict(self._params)

    def secret(self, name: str) -> str | None:
        return self._secrets.get(name)

    def secret_names(self) -> list[str]:
        return sorted(self._secrets)

    def get_secret_value(self, SecretId: str) -> dict[str, str]:
        """The one Secrets Manager call a function makes at cold start."""
        return {"SecretString": self._secrets[SecretId]}


def platform_store(**extra_params: str) -> StoreHolding:
    return StoreHolding(
        {NAMES.parameter("database", "endpoint"): "db.internal:5432",
         NAMES.parameter("redis", "endpoint"): "cache.internal:6379",
         NAMES.parameter("broker", "endpoint"): "amqps://b-1.mq.internal:5671",
         NAMES.parameter("broker", "vhost"): "shop",
         NAMES.parameter("user", "redis_db"): "1",
         **extra_params},
        {NAMES.broker_secret: json.dumps({"username": "shop-admin", "password": "adm1n"}),
         NAMES.broker_user_secret("user"): json.dumps(
             {"username": "shop-user", "password": "p@ss:word"}),
         NAMES.redis_secret("user"): json.dumps({"username": "shop-user", "password": "r3d1s"}),
         NAMES.database_secret("user"): json.dumps(
             {"username": "shop_user", "password": "s3cret/!", "dbname": "shop_user"})},
    )


def test_environment_holds_secret_names_and_addresses_never_credentials() -> None:
    env = cloud_settings.resolve(platform_store(), ["user"])["user"]
    assert env["SHOP_USER_DATABASE_URL"] == "postgresql+pg8000://db.internal:5432/shop_user"
    assert env["SHOP_USER_DATABASE_SECRET"] == "shop/dev/user/database"
    assert env["SHOP_USER_REDIS_URL"] == "redis://cache.internal:6379/1"
    assert env["SHOP_USER_REDIS_SECRET"] == "shop/dev/user/redis"
    assert env["SHOP_AMQP_URL"] == "amqps://b-1.mq.internal:5671/shop"
    assert env["SHOP_USER_AMQP_SECRET"] == "shop/dev/user/broker"
    assert env["SHOP_ENV_FILE"] == ""  # a function never reads a .env
    assert env["SHOP_KEYS_SECRET_PREFIX"] == "shop/dev/keys/"
    everything = json.dumps(env)
    for secret in ("s3cret", "p@ss", "p%40ss", "r3d1s", "adm1n"):
        assert secret not in everything


def test_a_function_builds_its_urls_from_the_named_secrets_at_cold_start() -> None:
    store = platform_store()
    env = cloud_settings.resolve(store, ["user"])["user"]
    fields = fill_credentials(merge_sources("user", env), client=store)
    settings = validate_settings("user", fields)
    assert str(settings.database_url) == (
        "postgresql+pg8000://shop_user:s3cret%2F%21@db.internal:5432/shop_user")
    assert str(settings.redis_url) == "redis://shop-user:r3d1s@cache.internal:6379/1"
    assert str(settings.amqp_url) == "amqps://shop-user:p%40ss%3Aword@b-1.mq.internal:5671/shop"


def test_a_service_without_database_credentials_gets_no_database_url() -> None:
    env = cloud_settings.resolve(platform_store(), ["user", "product"])
    assert "SHOP_PRODUCT_DATABASE_URL" not in env["product"]
    assert env["product"]["SHOP_PRODUCT_REDIS_URL"] == "redis://cache.internal:6379/0"


def test_published_service_urls_reach_every_service() -> None:
    store = platform_store(**{NAMES.parameter("order", "url"): "https://abc.example/api"})
    env = cloud_settings.resolve(store, ["user", "order"])
    assert env["user"]["SHOP_ORDER_SERVICE_URL"] == "https://abc.example/api"
    assert env["order"]["SHOP_ORDER_SERVICE_URL"] == "https://abc.example/api"


def test_staged_config_adds_policy_and_environment_to_the_stage(tmp_path: Path) -> None:
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps({
        "version": "2.0", "app_name": "shop-user",
        "environment_variables": {"SHOP_SERVICE_NAME": "user"},
        "stages": {"dev": {"api_gateway_stage": "api", "lambda_timeout": 30}},
    }))
    config = staged_config(FunctionApp("user", tmp_path), "qa", {"SHOP_X": "1"}, "policy-qa.json")
    stage = config["stages"]["qa"]
    assert stage["lambda_timeout"] == 30  # a stage the app does not name takes dev's settings
    assert stage["autogen_policy"] is False
    assert stage["iam_policy_file"] == "policy-qa.json"
    assert stage["environment_variables"] == {"SHOP_X": "1"}
    assert config["environment_variables"] == {"SHOP_SERVICE_NAME": "user"}
