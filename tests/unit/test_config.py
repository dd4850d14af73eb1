"""Settings: where each value comes from, and what a bad one says."""

from __future__ import annotations

from pathlib import Path

import pytest

from shop_common.config import SettingsError, merge_sources, validate_settings

GOOD_URL = "postgresql+pg8000://shop_user:pw@127.0.0.1:5432/shop_user"


def test_can_prefer_a_service_specific_variable_over_the_shared_one() -> None:
    fields = merge_sources("user", {
        "SHOP_LOG_LEVEL": "INFO",
        "SHOP_USER_LOG_LEVEL": "DEBUG",
        "SHOP_PRODUCT_LOG_LEVEL": "WARNING",
    })
    assert fields["log_level"] == "DEBUG"


def test_can_ignore_another_services_own_variables() -> None:
    fields = merge_sources("user", {
        "SHOP_DATABASE_URL": GOOD_URL,
        "SHOP_PRODUCT_DATABASE_URL": "postgresql+pg8000://p:p@127.0.0.1/shop_product",
    })
    assert fields["database_url"] == GOOD_URL


def test_can_read_shared_urls_whose_names_begin_with_a_service_name() -> None:
    environ = {
        "SHOP_USER_SERVICE_URL": "http://127.0.0.1:9001",
        "SHOP_ORDER_SERVICE_URL": "http://127.0.0.1:9003",
    }
    for service in ("user", "product", "order"):
        settings = validate_settings(service, {
            **merge_sources(service, environ), "database_url": GOOD_URL,
        })
        assert str(settings.user_service_url) == "http://127.0.0.1:9001/"
        assert str(settings.order_service_url) == "http://127.0.0.1:9003/"


def test_can_let_the_environment_win_over_the_env_file() -> None:
    fields = merge_sources(
        "user", {"SHOP_LOG_LEVEL": "DEBUG"}, file_values={"SHOP_LOG_LEVEL": "ERROR"}
    )
    assert fields["log_level"] == "DEBUG"


def test_can_resolve_a_relative_keys_dir_against_the_env_files_folder() -> None:
    fields = merge_sources("user", {"SHOP_KEYS_DIR": "var/keys"}, env_file_dir=Path("/srv/shop"))
    assert fields["keys_dir"] == "/srv/shop/var/keys"
    absolute = merge_sources("user", {"SHOP_KEYS_DIR": "/keys"}, env_file_dir=Path("/srv/shop"))
    assert absolute["keys_dir"] == "/keys"


@pytest.mark.parametrize("bad_url", [
    "not a url",
    "mysql://shop_user:pw@127.0.0.1/shop_user",
    "postgresql+pg8000:///no-host",
])
def test_malformed_database_url_names_the_variable(bad_url: str) -> None:
    with pytest.raises(SettingsError) as error:
        validate_settings("user", {"database_url": bad_url})
    assert "SHOP_USER_DATABASE_URL" in str(error.value)


def test_missing_database_url_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="SHOP_ORDER_DATABASE_URL"):
        validate_settings("order", {})


def test_every_bad_setting_is_named() -> None:
    with pytest.raises(SettingsError) as error:
        validate_settings("product", {
            "database_url": GOOD_URL, "redis_url": "http://x", "access_token_ttl_seconds": "-1",
        })
    assert "SHOP_PRODUCT_REDIS_URL" in str(error.value)
    assert "SHOP_PRODUCT_ACCESS_TOKEN_TTL_SECONDS" in str(error.value)


def test_unknown_service_is_refused() -> None:
    with pytest.raises(SettingsError, match="SHOP_SERVICE_NAME"):
        validate_settings("billing", {"database_url": GOOD_URL})


def test_service_token_ttl_above_60_seconds_is_refused() -> None:
    with pytest.raises(SettingsError, match="SHOP_USER_SERVICE_TOKEN_TTL_SECONDS"):
        validate_settings("user", {"database_url": GOOD_URL, "service_token_ttl_seconds": "61"})


def test_can_build_settings_with_defaults_from_one_url() -> None:
    settings = validate_settings("user", {"database_url": GOOD_URL})
    assert settings.service_name == "user"
    assert settings.access_token_ttl_seconds == 900
    assert settings.service_token_ttl_seconds <= 60
    assert settings.redis_namespace == "shop:user:"
