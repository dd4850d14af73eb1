"""The events part of the local stack (MQ event-source emulator, SMTP sink): hooks for `shop up`."""

from __future__ import annotations

from shop_local.stack import Component
from shop_local.supervisor import Program


def set_up(env: dict[str, str]) -> None:
    """Declare what the events need before any process starts (idempotent)."""


def programs(env: dict[str, str]) -> list[Program]:
    return []


def components(env: dict[str, str]) -> list[Component]:
    return []
