"""A throw-away copy of the stack for tests: own databases, roles, vhost, keys, Redis prefix.

It never touches what `make run` created, so the tests can run beside a live stack.
Services run as real `shop_local.runtime.host` processes on free ports.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

from shop_common.config import SERVICES
from shop_common.keys import generate_keys
from shop_common.messaging import declare_topology_at
from shop_local.apps import service_exists
from shop_local.mappings import load_mapping_file
from shop_local.paths import ROOT
from shop_local.probes import port_open
from shop_local.stack import provision
from shop_local.stack.backing import ensure_backing_services

ADMIN_URL = os.environ.get("SHOP_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_REDIS_DB = 15


# Below Linux's ephemeral range (32768-60999): a port the kernel hands out with
# bind(0) can be taken by any outgoing connection before the server binds it.
TEST_PORTS = range(20000, 32000)


def free_port() -> int:
    """A port that is free now and that no client socket will be given meanwhile."""
    for _ in range(200):
        port = random.choice(TEST_PORTS)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free test port found")


@dataclass
class ServiceProcess:
    service: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.service} exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.service} not healthy:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class ThrowawayStack:
    workdir: Path
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    processes: list[ServiceProcess] = field(default_factory=list)

    def database_url(self, service: str) -> str:
        name = f"shoptest_{self.run_id}_{service}"
        return f"postgresql+pg8000://{name}:pw-{self.run_id}@127.0.0.1:5432/{name}"

    def set_up(self) -> None:
        ensure_backing_services()
        keys_dir = self.workdir / "keys"
        generate_keys(keys_dir)
        self.ports = {s: free_port() for s in ("user", "product", "order")}
        self.env = {
            "SHOP_ENV_FILE": "",
            "SHOP_KEYS_DIR": str(keys_dir),
            "SHOP_AMQP_URL": f"amqp://guest:guest@127.0.0.1:5672/shoptest-{self.run_id}",
            "SHOP_LOG_LEVEL": "INFO",
            # Each function's log (START/END/REPORT) stays with this stack, not in var/.
            "SHOP_LAMBDA_LOG_DIR": str(self.workdir / "lambda-logs"),
            **{
                f"SHOP_{s.upper()}_SERVICE_URL": f"http://127.0.0.1:{p}"
                for s, p in self.ports.items()
            },
        }
        for service in SERVICES:
            if not service_exists(service):
                continue
            url = self.database_url(service)
            self.env[f"SHOP_{service.upper()}_DATABASE_URL"] = url
            self.env[f"SHOP_{service.upper()}_REDIS_URL"] = f"redis://127.0.0.1:6379/{TEST_REDIS_DB}"
            self.env[f"SHOP_{service.upper()}_REDIS_PREFIX"] = f"shoptest:{self.run_id}:{service}:"
            provision.provision_database(ADMIN_URL, provision.ServiceDatabase.from_url(url))
            provision.run_migrations(service, url)
        provision.ensure_vhost(self.env["SHOP_AMQP_URL"])
        # As `shop up` does: the event queues exist before any service publishes.
        declare_topology_at(self.env["SHOP_AMQP_URL"], load_mapping_file().queue_specs())

    def tear_down(self) -> None:
        for process in self.processes:
            process.stop()
        for service in SERVICES:
            url = self.env.get(f"SHOP_{service.upper()}_DATABASE_URL")
            if url:
                provision.drop_database(ADMIN_URL, provision.ServiceDatabase.from_url(url))
        if "SHOP_AMQP_URL" in self.env:
            provision.delete_vhost(self.env["SHOP_AMQP_URL"])

    def process_env(self, **overrides: str) -> dict[str, str]:
        return {**os.environ, **self.env, "PYTHONUNBUFFERED": "1", **overrides}

    def metrics_dir(self, service: str) -> Path:
        """Where a service's processes write their metrics (PROMETHEUS_MULTIPROC_DIR)."""
        return self.workdir / "metrics" / service

    def metrics_env(self, service: str) -> dict[str, str]:
        """Give every process that runs `service`'s code this, as `shop up` does."""
        self.metrics_dir(service).mkdir(parents=True, exist_ok=True)
        return {"PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir(service))}

    def start(self, service: str, **overrides: str) -> ServiceProcess:
        """Start (or restart) a service on its port and wait until it is healthy."""
        port = self.ports[service]
        if port_open("127.0.0.1", port):
            # Another process still holds the port: its answers would pass for ours.
            raise RuntimeError(f"{service}: port {port} is still in use; stop the old process")
        log_path = self.workdir / f"{service}-{len(self.processes)}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "shop_local.runtime.host", "--service", service,
             "--port", str(port)],
            env=self.process_env(**{**self.metrics_env(service), **overrides}), cwd=ROOT,
            stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
        )
        handle = ServiceProcess(service, port, process, log_path)
        self.processes.append(handle)
        handle.wait_healthy()
        return handle

    def run_task(self, service: str, function: str, **arguments: object) -> str:
        import json

        result = subprocess.run(
            [sys.executable, "-m", "shop_local.stack.task", service, function,
             json.dumps(arguments)],
            env=self.process_env(), capture_output=True, text=True, timeout=120, check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(result.stderr)
        return result.stdout.strip()
