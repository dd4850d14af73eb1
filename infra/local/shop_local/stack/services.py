"""The HTTP services of the local stack and the backing services: their programs and status rows."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

import requests

from shop_local.apps import http_services
from shop_local.probes import port_open
from shop_local.stack.backing import backing_services
from shop_local.stack.components import Component
from shop_local.stack.observability import metrics_environment
from shop_local.stack.supervisor import Program


def service_url(env: dict[str, str], service: str) -> str:
    return env.get(f"SHOP_{service.upper()}_SERVICE_URL", "").rstrip("/")


def programs(env: dict[str, str]) -> list[Program]:
    found = []
    for service in http_services():
        port = urlsplit(service_url(env, service)).port
        found.append(Program(
            name=service,
            command=[
                sys.executable, "-m", "shop_local.runtime.host", "--service", service,
                "--port", str(port),
            ],
            environment=metrics_environment(service),
        ))
    return found


def http_health(url: str) -> str:
    try:
        response = requests.get(url, timeout=3)
    except requests.RequestException:
        return "down"
    if response.status_code == 200:
        return "healthy"
    try:
        checks = response.json().get("checks", {})
        failing = [name for name, check in checks.items() if check.get("status") != "up"]
        return "degraded: " + ", ".join(failing)
    except ValueError:
        return f"unhealthy ({response.status_code})"


def components(env: dict[str, str]) -> list[Component]:
    found = [
        Component(
            b.name, f"{b.host}:{b.port}",
            lambda b=b: "up" if port_open(b.host, b.port) else "down",  # type: ignore[misc]
        )
        for b in backing_services()
    ]
    for service in http_services():
        url = service_url(env, service)
        found.append(Component(
            f"{service} service", url,
            lambda url=url: http_health(url + "/health"),  # type: ignore[misc]
        ))
    return found
