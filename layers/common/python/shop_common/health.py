"""`GET /health`: the state of the database, the cache and the broker, each checked for real."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pika
from chalice.app import Response
from sqlalchemy import text

from shop_common.errors import Problem
from shop_common.runtime import ServiceRuntime

Check = Callable[[], None]


def check_database(runtime: ServiceRuntime) -> None:
    with runtime.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def check_cache(runtime: ServiceRuntime) -> None:
    runtime.redis.ping()


def check_broker(runtime: ServiceRuntime) -> None:
    parameters = pika.URLParameters(str(runtime.settings.amqp_url))
    parameters.socket_timeout = 1
    parameters.blocked_connection_timeout = 1
    parameters.connection_attempts = 1
    connection = pika.BlockingConnection(parameters)
    connection.close()


def run_checks(checks: dict[str, Check]) -> tuple[bool, dict[str, Any]]:
    report: dict[str, Any] = {}
    healthy = True
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            check()
            report[name] = {"status": "up"}
        except Exception as exc:  # a health check reports any failure, whatever its kind
            healthy = False
            report[name] = {"status": "down", "error": type(exc).__name__}
        report[name]["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return healthy, report


def health_report(runtime: ServiceRuntime) -> tuple[int, dict[str, Any]]:
    healthy, checks = run_checks({
        "database": lambda: check_database(runtime),
        "cache": lambda: check_cache(runtime),
        "broker": lambda: check_broker(runtime),
    })
    body = {
        "service": runtime.settings.service_name,
        "status": "ok" if healthy else "degraded",
        "checks": checks,
    }
    return (200 if healthy else 503), body


def health_response(runtime: ServiceRuntime) -> Response:
    """200 with every check; when degraded, a 503 problem that still carries every check."""
    status, body = health_report(runtime)
    if status == 200:
        return Response(body=body, status_code=200, headers={"Content-Type": "application/json"})
    failing = sorted(name for name, check in body["checks"].items() if check["status"] != "up")
    raise Problem(status, "Service Unavailable", "degraded: " + ", ".join(failing),
                  slug="degraded", extra={"service": body["service"], "checks": body["checks"]})
