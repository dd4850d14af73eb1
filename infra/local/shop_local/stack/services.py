"""The runtime processes of the local stack and the backing services: programs and status rows.

Process topology: one runtime process per function app (each HTTP service's host, and
the MQ emulator for the communication app, in `events`), each running that app's
functions in its own Lambda service, plus `lambda`, the Invoke API on one port
(`SHOP_LAMBDA_INVOKE_PORT`, 3001) that forwards each call to the process that owns the
function (they register in var/run/lambda). So every function has exactly one pool of
execution environments, whatever invokes it (HTTP, schedules, MQ, the Invoke API);
`shop logs <service>` and supervisord's restarts stay per app; and each process
writes its service's metrics where that service's sidecar reads them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial

import requests

from shop_common.config import Settings
from shop_common.setting_values import port_setting, url_port_setting
from shop_local.apps import http_services
from shop_local.paths import RUN
from shop_local.probes import port_open
from shop_local.runtime.lambda_registry import owners
from shop_local.runtime.lambda_settings import DEFAULT_INVOKE_PORT
from shop_local.stack.backing import backing_services
from shop_local.stack.components import Component
from shop_local.stack.observability import metrics_environment
from shop_local.stack.supervisor import Program

LAMBDA_REGISTRY = RUN / "lambda"


def runtime_environment() -> dict[str, str]:
    """What every runtime process of the stack gets: where to register its functions."""
    return {"SHOP_LAMBDA_REGISTRY_DIR": str(LAMBDA_REGISTRY)}


def invoke_port(env: dict[str, str]) -> int:
    """The stack's Lambda Invoke API port: SHOP_LAMBDA_INVOKE_PORT, else 3001 (as `sam local
    start-lambda`). SettingsError when it is not a port number.
    """
    return port_setting(env, "SHOP_LAMBDA_INVOKE_PORT", DEFAULT_INVOKE_PORT)


def default_service_url(service: str) -> str:
    """The URL the services call `service` at when SHOP_<SERVICE>_SERVICE_URL is unset (their
    settings' default, e.g. http://127.0.0.1:8001), without a trailing slash.
    """
    return str(Settings.model_fields[f"{service}_service_url"].default).rstrip("/")


def service_url(env: dict[str, str], service: str) -> str:
    """A service's base URL from `.env` (SHOP_<SERVICE>_SERVICE_URL, else
    `default_service_url`) without a trailing slash.
    """
    given = env.get(f"SHOP_{service.upper()}_SERVICE_URL", "").strip()
    return (given or default_service_url(service)).rstrip("/")


def service_port(env: dict[str, str], service: str) -> int:
    """The port a service's process listens on: its `service_url`'s. SettingsError when that
    URL names no port, or not a port number.
    """
    return url_port_setting(env, f"SHOP_{service.upper()}_SERVICE_URL",
                            default_service_url(service))


def number_readers(env: dict[str, str]) -> list[Callable[[], int]]:
    """A reader of each number these programs and rows take from `.env` (status.check_settings).
    """
    return [partial(invoke_port, env),
            *(partial(service_port, env, service) for service in http_services())]


def programs(env: dict[str, str]) -> list[Program]:
    """One supervisord program per HTTP service (`shop_local.runtime.host` on the port of its
    SHOP_<SERVICE>_SERVICE_URL; `shop logs <service>`), then `lambda`, the Invoke API router.
    """
    found = []
    for service in http_services():
        port = service_port(env, service)
        found.append(Program(
            name=service,
            command=[
                sys.executable, "-m", "shop_local.runtime.host", "--service", service,
                "--port", str(port),
            ],
            environment={**metrics_environment(service), **runtime_environment()},
        ))
    found.append(Program(
        name="lambda",
        command=[sys.executable, "-m", "shop_local.runtime.lambda_router",
                 "--port", str(invoke_port(env)), "--registry", str(LAMBDA_REGISTRY)],
        priority=50,
    ))
    return found


def lambda_health(port: int) -> str:
    """Up when the Invoke API answers and some runtime process has registered functions."""
    if not port_open("127.0.0.1", port):
        return "down"
    registered = owners(LAMBDA_REGISTRY)
    return "up" if registered else "degraded: no runtime process registered yet"


def http_health(url: str) -> str:
    """The `shop status` state of a service from its GET /health at `url` (3 s timeout):
    `healthy` on 200, `degraded: <checks not up>` on a health report that is not, `unhealthy
    (<status>)` on another answer, `down` when nothing answers.
    """
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
    """The rows of `shop status` for the backing services (up when their port answers), each
    HTTP service (`http_health`) and the Lambda Invoke API (`lambda_health`).
    """
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
    port = invoke_port(env)
    found.append(Component("Lambda Invoke API", f"127.0.0.1:{port}",
                           lambda: lambda_health(port)))
    return found
