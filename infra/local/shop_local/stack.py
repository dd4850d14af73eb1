"""What the local stack is made of: the programs to supervise and the components to report."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from shop_local.backing import backing_services, port_open
from shop_local.paths import HTTP_SERVICES, LOGS, service_exists
from shop_local.supervisor import Program


@dataclass(frozen=True)
class Component:
    name: str
    address: str
    check: Callable[[], str]


def service_url(env: dict[str, str], service: str) -> str:
    return env.get(f"SHOP_{service.upper()}_SERVICE_URL", "").rstrip("/")


def http_services() -> list[str]:
    return [s for s in HTTP_SERVICES if service_exists(s)]


def programs(env: dict[str, str]) -> list[Program]:
    from shop_local.stack_observability import metrics_environment  # it builds on this module

    found = []
    for service in http_services():
        port = urlsplit(service_url(env, service)).port
        found.append(Program(
            name=service,
            command=[
                sys.executable, "-m", "shop_local.host", "--service", service,
                "--port", str(port), "--access-log", str(LOGS / f"{service}.access.log"),
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


def render_table(rows: list[tuple[str, str, str]]) -> str:
    header = ("component", "address", "health")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*header), line.format(*("-" * w for w in widths))]
    out += [line.format(*row) for row in rows]
    return "\n".join(out)


def all_programs(env: dict[str, str]) -> list[Program]:
    from shop_local import stack_events, stack_observability  # they build on this module

    return programs(env) + stack_events.programs(env) + stack_observability.programs(env)


def all_components(env: dict[str, str]) -> list[Component]:
    from shop_local import stack_events, stack_observability  # they build on this module

    return components(env) + stack_events.components(env) + stack_observability.components(env)


def status_table(env: dict[str, str]) -> tuple[str, bool]:
    rows = [(c.name, c.address, c.check()) for c in all_components(env)]
    healthy = all(r[2] in ("up", "healthy") for r in rows)
    return render_table(rows), healthy
