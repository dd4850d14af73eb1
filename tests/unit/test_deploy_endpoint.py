"""Where `shop deploy` looks for the emulated cloud (localstack-client's settings)."""

from __future__ import annotations

import pytest

from shop_local.deploy.endpoint import Endpoint


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "LOCALSTACK_HOST"):
        monkeypatch.delenv(name, raising=False)


def test_default_is_the_loopback_edge_port() -> None:
    endpoint = Endpoint.resolve()
    assert endpoint.url == "http://127.0.0.1:4566"
    assert endpoint.is_loopback


def test_localstack_host_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALSTACK_HOST", "127.0.0.1:4599")
    assert Endpoint.resolve().url == "http://127.0.0.1:4599"


def test_aws_endpoint_url_wins_over_localstack_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALSTACK_HOST", "127.0.0.1:4599")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4600/")
    assert Endpoint.resolve().url == "http://127.0.0.1:4600"


def test_explicit_endpoint_wins_and_may_omit_the_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4600")
    endpoint = Endpoint.resolve("127.0.0.1:4601")
    assert (endpoint.url, endpoint.port) == ("http://127.0.0.1:4601", 4601)


def test_child_environment_carries_dummy_credentials_only() -> None:
    env = Endpoint("http://127.0.0.1:4601").environment()
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4601"
    assert env["AWS_ACCESS_KEY_ID"] == "test"
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"


def test_a_remote_endpoint_is_not_loopback() -> None:
    assert not Endpoint("http://10.0.0.5:4566").is_loopback
