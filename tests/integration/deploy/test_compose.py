"""docker-compose.yml: parsed and checked by docker-compose itself (no engine needed)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from dotenv import dotenv_values

from shop_local.envfile import generate_secrets
from shop_local.paths import ENV_EXAMPLE, ROOT

COMPOSE = shutil.which("docker-compose")
pytestmark = pytest.mark.skipif(
    COMPOSE is None, reason="docker-compose is missing (infra/local/install-system-deps.sh)")


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `.env` `make run` writes (which `docker compose` reads): secrets generated."""
    path = tmp_path_factory.mktemp("compose") / ".env"
    path.write_text(generate_secrets(ENV_EXAMPLE.read_text()))
    return path


def compose(*args: str, env_file: Path) -> subprocess.CompletedProcess[str]:
    assert COMPOSE is not None
    return subprocess.run(
        [COMPOSE, "--env-file", str(env_file), "-f", str(ROOT / "docker-compose.yml"), *args],
        cwd=ROOT, env={k: v for k, v in os.environ.items() if not k.startswith("SHOP_")},
        capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def config(env_file: Path) -> dict[str, Any]:
    result = compose("config", env_file=env_file)
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = yaml.safe_load(result.stdout)
    return parsed


def test_compose_file_is_valid(env_file: Path) -> None:
    result = compose("config", "-q", env_file=env_file)
    assert result.returncode == 0, result.stderr


def test_compose_ships_closed_no_password_has_a_default(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = compose("config", "-q", env_file=empty)
    assert result.returncode != 0
    assert "SHOP_COMPOSE_" in result.stderr and "make run generates it" in result.stderr


def test_postgres_and_redis_ask_every_client_for_a_password(
        config: dict[str, Any], env_file: Path) -> None:
    postgres = config["services"]["postgres"]["environment"]
    assert postgres["POSTGRES_HOST_AUTH_METHOD"] == "scram-sha-256"
    assert "--auth-local=scram-sha-256" in postgres["POSTGRES_INITDB_ARGS"]
    assert "--auth-host=scram-sha-256" in postgres["POSTGRES_INITDB_ARGS"]
    command = config["services"]["redis"]["command"]
    password = command[command.index("--requirepass") + 1]
    assert password == dotenv_values(env_file)["SHOP_COMPOSE_REDIS_PASSWORD"]
    assert len(password) >= 20


def test_each_function_logs_in_to_redis_as_its_own_user(config: dict[str, Any]) -> None:
    for name in ("user", "product", "order", "communication"):
        environment = config["services"][name]["environment"]
        users = {urlsplit(environment[f"SHOP_{s.upper()}_REDIS_URL"]).username
                 for s in ("user", "product", "order", "communication")}
        assert users == {"shop-user", "shop-product", "shop-order", "shop-communication"}
        assert urlsplit(environment[f"SHOP_{name.upper()}_REDIS_URL"]).password
    setup = config["services"]["setup"]["environment"]
    assert urlsplit(setup["SHOP_REDIS_ADMIN_URL"]).password


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
