"""Footprint (placeholder while written)."""

from __future__ import annotations

from bench.context import Context
from bench.report import Row


def run(ctx: Context) -> list[Row]:
    return []
