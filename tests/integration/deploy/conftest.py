"""A throw-away emulated cloud for the deploy tests: its own port, state folder and checkout copy.

The first `shop deploy` finds nothing at the port and starts the embedded emulator
itself, as it does for a developer; the session ends with `--stop-emulator`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shop_local.apps import FunctionApp, discover
from shop_local.deploy.endpoint import Endpoint
from shop_local.paths import ROOT
from tests.support.stack import free_port

STAGE = "dev"


@dataclass
class CloudRun:
    root: Path
    functions: Path
    state: Path
    endpoint: str
    env: dict[str, str]

    def shop(self, *args: str, timeout: float = 480) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shop_local.cli", "deploy", "--endpoint", self.endpoint,
             "--state-dir", str(self.state), "--functions-dir", str(self.functions), *args],
            env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
        )

    def client(self, service: str) -> Any:
        return Endpoint(self.endpoint).client(service)

    def apps(self) -> list[FunctionApp]:
        return discover(self.functions)

    def staged(self, service: str) -> Path:
        return self.state / STAGE / "build" / service

    def functions_of(self, app: FunctionApp) -> dict[str, dict[str, Any]]:
        prefix = f"{app.app_name}-{STAGE}"
        return {f["FunctionName"]: f
                for f in self.client("lambda").list_functions(MaxItems=1000)["Functions"]
                if f["FunctionName"] == prefix or f["FunctionName"].startswith(prefix + "-")}

    def emulator_pid(self) -> int | None:
        pid_file = self.state / f"emulator-{self.endpoint.rsplit(':', 1)[1]}.pid"
        return int(pid_file.read_text()) if pid_file.is_file() else None


def make_checkout_copy(root: Path) -> Path:
    """functions/ as it is now, plus a symlinked package inside one app's chalicelib:
    Chalice drops such content from its zip unless the deploy resolves the link."""
    functions = root / "functions"
    shutil.copytree(ROOT / "functions", functions, symlinks=True, ignore=shutil.ignore_patterns(
        "__pycache__", "vendor", "deployments", "deployed"))
    linked = root / "outside" / "linked_marker"
    linked.mkdir(parents=True)
    (linked / "__init__.py").write_text('"""Reached through a symlink in chalicelib."""\n')
    (linked / "marker.py").write_text("PRESENT = True\n")
    os.symlink(linked, functions / "user" / "chalicelib" / "linked_marker")
    # The layer travels with the copy, so edits to the live checkout during the
    # session never look like changes to the deployed apps.
    shutil.copytree(ROOT / "layers", root / "layers", ignore=shutil.ignore_patterns("__pycache__"))
    return functions


SERVICES = ("user", "product", "order", "communication")


def local_passwords() -> list[str]:
    """Every credential the deploy's `.env` holds: none may reach a function's environment."""
    return [f"{kind}-{s}-pw" for kind in ("db", "broker", "redis") for s in SERVICES]


def make_env_file(root: Path) -> Path:
    """A `.env` shaped like `make run`'s: a database role, broker user, Redis user per service."""
    env_file = root / "deploy.env"
    env_file.write_text("\n".join([
        f"SHOP_KEYS_DIR={root / 'keys'}",
        *(f"SHOP_{s.upper()}_DATABASE_URL=postgresql+pg8000://shop_{s}:db-{s}-pw@127.0.0.1:5432/shop_{s}"
          for s in SERVICES),
        *(f"SHOP_{s.upper()}_AMQP_URL=amqp://shop-{s}:broker-{s}-pw@127.0.0.1:5672/shop"
          for s in SERVICES),
        *(f"SHOP_{s.upper()}_REDIS_URL=redis://shop-{s}:redis-{s}-pw@127.0.0.1:6379/{n}"
          for n, s in enumerate(SERVICES, start=1)),
    ]) + "\n")
    return env_file


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudRun]:
    root = tmp_path_factory.mktemp("deploy")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "LOCALSTACK_", "SHOP_"))}
    env.update({"SHOP_ENV_FILE": str(make_env_file(root)), "PYTHONUNBUFFERED": "1"})
    run = CloudRun(root, make_checkout_copy(root), root / "state",
                   f"http://127.0.0.1:{free_port()}", env)
    try:
        yield run
    finally:
        pid = run.emulator_pid()
        run.shop("--stop-emulator", timeout=60)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # only if --stop-emulator failed to


@pytest.fixture(scope="session")
def first_deploy(cloud: CloudRun) -> subprocess.CompletedProcess[str]:
    return cloud.shop()


@pytest.fixture(scope="session")
def first_verify(cloud: CloudRun, first_deploy: subprocess.CompletedProcess[str]) -> (
        subprocess.CompletedProcess[str]):
    return cloud.shop("--verify")
