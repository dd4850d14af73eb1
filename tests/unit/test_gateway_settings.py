"""Gateway settings are read once, with defaults as API Gateway's, and a bad value names its
variable."""

from __future__ import annotations

import pytest

from shop_local.runtime.gateway.settings import GatewaySettings, GatewaySettingsError


def test_defaults_are_api_gateways() -> None:
    settings = GatewaySettings.from_environ({})
    assert settings.integration_timeout == 29
    assert settings.max_body_bytes == 10 * 1024 * 1024
    assert settings.limits.header_timeout == 10 and settings.limits.idle_timeout == 5


def test_values_are_read() -> None:
    settings = GatewaySettings.from_environ({
        "SHOP_GATEWAY_INTEGRATION_TIMEOUT_SECONDS": "2.5",
        "SHOP_GATEWAY_HEADER_TIMEOUT_SECONDS": "1",
        "SHOP_GATEWAY_MAX_HEADER_BYTES": "4096",
    })
    assert settings.integration_timeout == 2.5
    assert settings.limits.header_timeout == 1 and settings.limits.max_header_bytes == 4096


@pytest.mark.parametrize(("name", "value"), [
    ("SHOP_GATEWAY_INTEGRATION_TIMEOUT_SECONDS", "soon"),
    ("SHOP_GATEWAY_HEADER_TIMEOUT_SECONDS", "0"),
    ("SHOP_GATEWAY_MAX_HEADER_BYTES", "10"),
    ("SHOP_GATEWAY_BODY_TIMEOUT_SECONDS", "-1"),
])
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(GatewaySettingsError, match=name):
        GatewaySettings.from_environ({name: value})
