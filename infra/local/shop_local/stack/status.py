"""The whole local stack: every program `shop up` supervises and every row `shop status` shows."""

from __future__ import annotations

from shop_common.setting_values import check_each
from shop_local.stack import events, observability, services
from shop_local.stack.components import HEALTHY, Component, render_table
from shop_local.stack.supervisor import Program


def check_settings(env: dict[str, str]) -> None:
    """SettingsError, one line per setting, when a number the stack's programs and rows take
    from `.env` (a port, the push interval, a URL's port) is not one.
    """
    check_each([*services.number_readers(env), *events.number_readers(env),
                *observability.number_readers(env)])


def all_programs(env: dict[str, str]) -> list[Program]:
    """Every program `shop up` supervises: the services' runtime processes and the Invoke API,
    the events' (SMTP sink, MQ emulators), then the observability's.
    """
    return services.programs(env) + events.programs(env) + observability.programs(env)


def all_components(env: dict[str, str]) -> list[Component]:
    """Every row of `shop status`, in that same order, each with its health check."""
    return services.components(env) + events.components(env) + observability.components(env)


def status_table(env: dict[str, str]) -> tuple[str, bool]:
    """The rendered table and whether every component is healthy."""
    rows = [(c.name, c.address, c.check()) for c in all_components(env)]
    healthy = all(r[2] in HEALTHY for r in rows)
    return render_table(rows), healthy
