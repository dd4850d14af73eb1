"""The one clock the services read: timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, as an aware `datetime` in UTC (what every timestamp column stores)."""
    return datetime.now(UTC)
