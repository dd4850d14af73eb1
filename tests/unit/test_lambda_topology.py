"""The local stack's process topology: one runtime process per app, one Invoke API port."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shop_local.runtime.lambda_registry import owners, publish
from shop_local.stack import events, services
from tests.support.stack import free_port

ENV = {"SHOP_USER_SERVICE_URL": "http://127.0.0.1:8001",
       "SHOP_PRODUCT_SERVICE_URL": "http://127.0.0.1:8002",
       "SHOP_ORDER_SERVICE_URL": "http://127.0.0.1:8003",
       "SHOP_AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/shop",
       "SHOP_LAMBDA_INVOKE_PORT": "3101"}


def test_every_runtime_process_registers_its_functions_for_the_one_invoke_port() -> None:
    programs = {p.name: p for p in services.programs(ENV) + events.programs(ENV)}
    runtimes = [programs[name] for name in ("user", "product", "order", "mq-emulator")]
    for program in runtimes:
        assert program.environment["SHOP_LAMBDA_REGISTRY_DIR"] == str(services.LAMBDA_REGISTRY)
    router = programs["lambda"]
    assert router.command[1:] == ["-m", "shop_local.runtime.lambda_router", "--port", "3101",
                                  "--registry", str(services.LAMBDA_REGISTRY)]


def test_the_invoke_api_row_reports_down_degraded_and_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setattr(services, "LAMBDA_REGISTRY", tmp_path)
    port = free_port()
    assert services.lambda_health(port) == "down"
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        assert services.lambda_health(port).startswith("degraded")
        publish(tmp_path, "http://127.0.0.1:1", ["shop-user-dev"])
        assert services.lambda_health(port) == "up"
    row = next(c for c in services.components(ENV) if c.name == "Lambda Invoke API")
    assert row.address == "127.0.0.1:3101"


def test_a_registration_of_a_dead_process_is_ignored_and_removed(tmp_path: Path) -> None:
    registration = publish(tmp_path, "http://127.0.0.1:1", ["f"])
    assert owners(tmp_path) == {"f": "http://127.0.0.1:1"}
    dead = tmp_path / "999999999.json"
    dead.write_text(registration.path.read_text().replace(str(os.getpid()), "999999999"))
    owners(tmp_path)
    assert not dead.exists()
