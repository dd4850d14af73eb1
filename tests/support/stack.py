"""A throw-away copy of the stack for tests: own databases, roles, vhost, users, keys, Redis prefix.

It never touches what `make run` created, so the tests can run beside a live stack.
Every service runs least-privilege, as it does under `shop up`: its own PostgreSQL
role, its own RabbitMQ user (the same grants `shop setup` gives) and its own Redis ACL
user, all named `shoptest_<run>_...`/`shoptest-<run>-...` and removed at tear-down.
The tests' own inspection of the broker (publishing, draining queues) goes through a
per-run administrator of the run's vhost (`admin_amqp_url`).

Services run as real `shop_local.runtime.host` processes on free ports. By default the
stack uses the machine's PostgreSQL and Redis; the fault suite passes the admin URL of
a private PostgreSQL cluster and the URL of a private redis-server it may stop.
"""

from __future__ import annotations

import os
import random
import secrets
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

from shop_common.config import SERVICES
from shop_common.keys import generate_keys
from shop_common.messaging import declare_topology_at
from shop_local.apps import service_exists
from shop_local.cli import DEFAULT_REDIS_ADMIN
from shop_local.mappings import load_mapping_file
from shop_local.paths import ROOT
from shop_local.probes import port_open
from shop_local.stack import broker_users, provision, redis_users
from shop_local.stack.backing import ensure_backing_services

ADMIN_URL = os.environ.get("SHOP_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# The variable and default the stack tooling uses for the machine's Redis administrator.
REDIS_ADMIN_URL = os.environ.get("SHOP_REDIS_ADMIN_URL", DEFAULT_REDIS_ADMIN)
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


def password() -> str:
    return secrets.token_urlsafe(18)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
        stop_process(self.process)


@dataclass
class ThrowawayStack:
    workdir: Path
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    pg_admin_url: str = ADMIN_URL
    redis_admin_url: str = REDIS_ADMIN_URL
    env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    processes: list[ServiceProcess] = field(default_factory=list)
    admin_amqp_url: str = ""
    broker_user_names: list[str] = field(default_factory=list)
    cache_users: list[redis_users.RedisUser] = field(default_factory=list)

    @property
    def vhost(self) -> str:
        return f"shoptest-{self.run_id}"

    @property
    def uses_shared_servers(self) -> bool:
        return self.pg_admin_url == ADMIN_URL and self.redis_admin_url == REDIS_ADMIN_URL

    def database_url(self, service: str) -> str:
        name = f"shoptest_{self.run_id}_{service}"
        admin = urlsplit(self.pg_admin_url)
        return (f"postgresql+pg8000://{name}:pw-{self.run_id}@{admin.hostname or '127.0.0.1'}:"
                f"{admin.port or 5432}/{name}")

    def amqp_url(self, service: str) -> str:
        """The service's own broker URL (its least-privilege user)."""
        return self.env[f"SHOP_{service.upper()}_AMQP_URL"]

    def redis_url(self, service: str) -> str:
        return self.env[f"SHOP_{service.upper()}_REDIS_URL"]

    def redis_prefix(self, service: str) -> str:
        return self.env[f"SHOP_{service.upper()}_REDIS_PREFIX"]

    def set_up(self) -> None:
        if self.uses_shared_servers:
            ensure_backing_services()
        keys_dir = self.workdir / "keys"
        generate_keys(keys_dir)
        self.ports = {s: free_port() for s in ("user", "product", "order")}
        self.env = {
            "SHOP_ENV_FILE": "",
            "SHOP_KEYS_DIR": str(keys_dir),
            "SHOP_LOG_LEVEL": "INFO",
            # Every test talks from 127.0.0.1: one address's limits would throttle the
            # whole suite. The throttling tests run a user service with the defaults and
            # call it from distinct loopback addresses (tests/integration/test_login_throttling.py).
            "SHOP_AUTH_REQUESTS_PER_CLIENT_PER_MINUTE": "1000000",
            "SHOP_LOGIN_CLIENT_FREE_FAILURES": "1000000",
            # Each function's log (START/END/REPORT) stays with this stack, not in var/.
            "SHOP_LAMBDA_LOG_DIR": str(self.workdir / "lambda-logs"),
            **{
                f"SHOP_{s.upper()}_SERVICE_URL": f"http://127.0.0.1:{p}"
                for s, p in self.ports.items()
            },
        }
        self.set_up_broker()
        redis_host = urlsplit(self.redis_admin_url)
        for service in SERVICES:
            if not service_exists(service):
                continue
            upper = service.upper()
            url = self.database_url(service)
            self.env[f"SHOP_{upper}_DATABASE_URL"] = url
            prefix = f"shoptest:{self.run_id}:{service}:"
            cache_user = redis_users.RedisUser(f"shoptest-{self.run_id}-{service}",
                                               password(), prefix)
            self.cache_users.append(cache_user)
            self.env[f"SHOP_{upper}_REDIS_URL"] = (
                f"redis://{cache_user.name}:{cache_user.password}@{redis_host.hostname}:"
                f"{redis_host.port or 6379}/{TEST_REDIS_DB}")
            self.env[f"SHOP_{upper}_REDIS_PREFIX"] = prefix
            provision.provision_database(self.pg_admin_url,
                                         provision.ServiceDatabase.from_url(url))
            provision.run_migrations(service, url)
        self.ensure_cache_users()

    def ensure_cache_users(self) -> None:
        """Each service's Redis ACL user, as `shop setup` makes it (again after a Redis
        restart: a server without an ACL file forgets its users)."""
        redis_admin = redis_users.admin_client(self.redis_admin_url)
        try:
            for user in self.cache_users:
                redis_users.ensure_user(redis_admin, user)
        finally:
            redis_admin.close()

    def set_up_broker(self) -> None:
        """The run's vhost, its administrator, a user per service as `shop setup` grants
        them, and the topology (as `shop up` does: the queues exist before any publish)."""
        broker_users.ensure_vhost(self.vhost)
        admin = broker_users.BrokerUser(f"shoptest-{self.run_id}-admin", password(), self.vhost)
        broker_users.ensure_user(admin, broker_users.ADMINISTRATOR)
        self.broker_user_names.append(admin.name)
        self.admin_amqp_url = admin.url()
        mappings = load_mapping_file()
        for service in SERVICES:
            if not service_exists(service):
                continue
            user = broker_users.BrokerUser(f"shoptest-{self.run_id}-{service}", password(),
                                           self.vhost)
            broker_users.ensure_user(user, broker_users.grant_for(service, mappings))
            self.broker_user_names.append(user.name)
            self.env[f"SHOP_{service.upper()}_AMQP_URL"] = user.url()
        declare_topology_at(self.admin_amqp_url, mappings.queue_specs())

    def broker_user_for(self, service: str, mappings_file: Path) -> str:
        """The URL of a further broker user of `service`, granted what `shop setup` would
        grant it for `mappings_file` (a test's own queues) and nothing more; it is deleted
        with the stack."""
        user = broker_users.BrokerUser(
            f"shoptest-{self.run_id}-{service}-{uuid.uuid4().hex[:6]}", password(), self.vhost)
        broker_users.ensure_user(
            user, broker_users.grant_for(service, load_mapping_file(mappings_file)))
        self.broker_user_names.append(user.name)
        return user.url()

    def tear_down(self) -> None:
        for process in self.processes:
            process.stop()
        for service in SERVICES:
            url = self.env.get(f"SHOP_{service.upper()}_DATABASE_URL")
            if url:
                provision.drop_database(self.pg_admin_url,
                                        provision.ServiceDatabase.from_url(url))
        for name in self.broker_user_names:
            broker_users.delete_user(name)
        broker_users.delete_vhost(self.vhost)
        if self.cache_users:
            redis_admin = redis_users.admin_client(self.redis_admin_url)
            try:
                for user in self.cache_users:
                    redis_users.delete_user(redis_admin, user.name)
            finally:
                redis_admin.close()

    def process_env(self, **overrides: str) -> dict[str, str]:
        return {**os.environ, **self.env, "PYTHONUNBUFFERED": "1", **overrides}

    def metrics_dir(self, service: str) -> Path:
        """Where a service's processes write their metrics (PROMETHEUS_MULTIPROC_DIR)."""
        return self.workdir / "metrics" / service

    def metrics_env(self, service: str) -> dict[str, str]:
        """Give every process that runs `service`'s code this, as `shop up` does."""
        self.metrics_dir(service).mkdir(parents=True, exist_ok=True)
        return {"PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir(service))}

    def start(self, service: str, port: int | None = None, **overrides: str) -> ServiceProcess:
        """Start (or restart) a service on its port and wait until it is healthy.

        `port` runs another instance beside it (the benchmarks compare settings that way).
        """
        port = port or self.ports[service]
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
