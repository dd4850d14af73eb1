"""The events part of the local stack (MQ event-source emulator, SMTP sink): hooks for `shop up`.

- `set_up`: the SMTP sink's Maildir. (The broker topology of the mapping file is
  declared by provisioning, `provision.prepare_broker`, as a temporary administrator:
  no service's own broker user may declare anything.)
- `programs`: one MQ emulator per function app in the mapping file, and the SMTP sink.
- `components`: their rows in `shop status`.

The outbox relays need nothing here: they are `@app.schedule` functions of the
publishing services, fired by each service's host through its Lambda service
(shop_local.runtime.schedules). The MQ emulator is the communication app's runtime
process: its functions run in its Lambda service and register for the Invoke API.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial

from shop_common.setting_values import port_setting
from shop_local.mappings import load_mapping_file
from shop_local.probes import port_open
from shop_local.runtime import mq_status, smtp_sink
from shop_local.stack.components import Component
from shop_local.stack.observability import metrics_environment
from shop_local.stack.services import runtime_environment
from shop_local.stack.supervisor import Program

STATUS_STALE_SECONDS = 10


def smtp_address(env: dict[str, str]) -> tuple[str, int]:
    """The SMTP sink's (host, port) from `.env` (SHOP_SMTP_HOST, SHOP_SMTP_PORT), else the
    sink's defaults (127.0.0.1, 1025). SettingsError when the port is not a port number.
    """
    return (env.get("SHOP_SMTP_HOST", smtp_sink.DEFAULT_HOST),
            port_setting(env, "SHOP_SMTP_PORT", smtp_sink.DEFAULT_PORT))


def number_readers(env: dict[str, str]) -> list[Callable[[], object]]:
    """A reader of each number the events' programs and rows take from `.env`
    (status.check_settings).
    """
    return [partial(smtp_address, env)]


def set_up(env: dict[str, str]) -> None:
    """Prepare what the events need before any process starts (idempotent)."""
    smtp_sink.ensure_maildir(smtp_sink.MAILDIR)


def emulator_program_name(app: str, apps: list[str]) -> str:
    """The supervisord program name of `app`'s MQ emulator: `mq-emulator` when the mapping file
    maps one app (the `shop logs` name), else `mq-emulator-<app>`.
    """
    return "mq-emulator" if len(apps) == 1 else f"mq-emulator-{app}"


def programs(env: dict[str, str]) -> list[Program]:
    """The events' supervisord programs: the SMTP sink, then one MQ event-source emulator per
    app of infra/event-source-mappings.json, each writing its metrics where its service's
    sidecar reads them. Raises what `load_mapping_file` raises for a malformed mapping file.
    """
    host, port = smtp_address(env)
    found = [Program(
        name="smtp-sink",
        command=[sys.executable, "-m", "shop_local.runtime.smtp_sink", "--host", host,
                 "--port", str(port), "--maildir", str(smtp_sink.MAILDIR)],
        priority=50,  # before anything that sends mail
    )]
    apps = load_mapping_file().apps()
    for app in apps:
        found.append(Program(
            name=emulator_program_name(app, apps),
            command=[sys.executable, "-m", "shop_local.runtime.mq_emulator", "--app", app],
            stop_seconds=30,  # lets an invocation in progress finish
            # The functions count emails and invocations: their files go to the
            # app's metrics directory, pushed by that service's sidecar.
            environment={**metrics_environment(app), **runtime_environment()},
        ))
    return found


def emulator_health(app: str) -> str:
    """From the status file the emulator rewrites every second (runtime.mq_status, light:
    the emulator itself pulls in pika and pydantic, which `shop status` need not load).
    """
    report = mq_status.read_status(app)
    if report is None:
        return "down"
    if time.time() - float(report.get("updated_at", 0)) > STATUS_STALE_SECONDS:
        return "down"
    waiting = [m["function"] for m in report.get("mappings", []) if m.get("state") != "consuming"]
    return "up" if not waiting else "degraded: not consuming for " + ", ".join(waiting)


def components(env: dict[str, str]) -> list[Component]:
    """The events' rows of `shop status`: the SMTP sink (up when its port answers) and each MQ
    emulator (`emulator_health`), addressed by its queues and vhost.
    """
    host, port = smtp_address(env)
    found = [Component("SMTP sink", f"{host}:{port}",
                       lambda: "up" if port_open(host, port) else "down")]
    mappings = load_mapping_file(amqp_url=env.get("SHOP_AMQP_URL"))
    for app in mappings.apps():
        queues = ", ".join(m.queue for m in mappings.for_app(app))
        found.append(Component(
            f"MQ emulator ({app})", f"{queues} @ {mappings.broker.vhost}",
            lambda app=app: emulator_health(app),  # type: ignore[misc]
        ))
    return found
