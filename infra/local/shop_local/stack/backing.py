"""PostgreSQL, Redis and RabbitMQ: check each answers, start any that is down."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from shop_local.probes import port_open, wait_for


@dataclass(frozen=True)
class BackingService:
    """A server the stack needs on this host: where it answers (host, TCP port), the shell
    command that starts it, and how long to wait for it (seconds).
    """
    name: str
    host: str
    port: int
    start_command: str
    start_timeout: float


def _postgres_start() -> str:
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    version = versions[-1] if versions else "15"
    return f"pg_ctlcluster --skip-systemctl-redirect {version} main start"


def backing_services() -> list[BackingService]:
    """PostgreSQL (5432; the newest cluster under /etc/postgresql, started with
    `pg_ctlcluster`), Redis (6379, no persistence) and RabbitMQ (5672), all on 127.0.0.1.
    """
    return [
        BackingService("PostgreSQL", "127.0.0.1", 5432, _postgres_start(), 30),
        BackingService(
            "Redis", "127.0.0.1", 6379,
            'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
            15,
        ),
        BackingService("RabbitMQ", "127.0.0.1", 5672, "rabbitmq-server -detached", 90),
    ]


def ensure_running(service: BackingService, say: Callable[[str], None] = print) -> None:
    """Start `service` unless its port answers, then wait up to its start timeout. The start
    command runs as the calling user (starting a system service usually needs root).
    RuntimeError when the port does not answer in time.
    """
    if port_open(service.host, service.port):
        return
    say(f"{service.name} is not answering on {service.host}:{service.port}; starting it")
    subprocess.run(service.start_command, shell=True, check=False)  # noqa: S602 (fixed commands)
    if not wait_for(lambda: port_open(service.host, service.port), service.start_timeout):
        raise RuntimeError(
            f"{service.name} did not start within {service.start_timeout:.0f}s "
            f"(`{service.start_command}`)"
        )


def ensure_backing_services(say: Callable[[str], None] = print) -> None:
    """`ensure_running` for PostgreSQL, Redis and RabbitMQ, in that order; RuntimeError on the
    first that does not start.
    """
    for service in backing_services():
        ensure_running(service, say)
