"""The observability part of the local stack (sidecars, Pushgateway, Prometheus): hooks for `shop up`."""

from __future__ import annotations

from shop_local.stack import Component
from shop_local.supervisor import Program


def set_up(env: dict[str, str]) -> None:
    """Prepare what observability needs before any process starts (idempotent)."""


def programs(env: dict[str, str]) -> list[Program]:
    return []


def components(env: dict[str, str]) -> list[Component]:
    return []
