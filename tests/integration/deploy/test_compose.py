"""docker-compose.yml: parsed and checked by docker-compose itself (no engine needed)."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
import yaml

from shop_local.paths import ROOT

COMPOSE = shutil.which("docker-compose")
pytestmark = pytest.mark.skipif(
    COMPOSE is None, reason="docker-compose is missing (infra/local/install-system-deps.sh)")


def compose(*args: str) -> subprocess.CompletedProcess[str]:
    assert COMPOSE is not None
    return subprocess.run([COMPOSE, "-f", str(ROOT / "docker-compose.yml"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    result = compose("config")
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = yaml.safe_load(result.stdout)
    return parsed


def test_compose_file_is_valid() -> None:
    result = compose("config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_runs_the_whole_stack(config: dict[str, Any]) -> None:
    services = set(config["services"])
    assert {"postgres", "redis", "rabbitmq", "user", "product", "order", "communication",
            "pushgateway", "prometheus", "mailpit", "localstack"} <= services
    assert {f"metrics-{s}" for s in ("user", "product", "order", "communication")} <= services


def test_every_long_running_service_has_a_health_check(config: dict[str, Any]) -> None:
    unchecked = [name for name, service in config["services"].items()
                 if "healthcheck" not in service and name != "setup"
                 and not name.startswith("metrics-")]
    assert unchecked == []


def test_functions_wait_for_healthy_backing_services_and_the_set_up(
        config: dict[str, Any]) -> None:
    for name in ("user", "product", "order", "communication"):
        depends = config["services"][name]["depends_on"]
        for backing in ("postgres", "redis", "rabbitmq"):
            assert depends[backing]["condition"] == "service_healthy"
        assert depends["setup"]["condition"] == "service_completed_successfully"


def test_every_published_port_is_bound_to_loopback(config: dict[str, Any]) -> None:
    for name, service in config["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_rabbitmq_enables_management_and_prometheus_plugins(config: dict[str, Any]) -> None:
    entrypoint = " ".join(config["services"]["rabbitmq"]["entrypoint"])
    assert "rabbitmq_management" in entrypoint and "rabbitmq_prometheus" in entrypoint


def test_functions_run_on_the_local_runtime(config: dict[str, Any]) -> None:
    for name in ("user", "product", "order"):
        command = config["services"][name]["command"]
        assert command[:3] == ["python", "-m", "shop_local.runtime.host"]
    assert "shop_local.runtime.mq_emulator" in config["services"]["communication"]["command"]
