"""A row of `shop status`: a component of the stack, its address and how to ask its health."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Component:
    """`check()` returns the health shown: "up"/"healthy" when fine, else a short reason."""

    name: str
    address: str
    check: Callable[[], str]


HEALTHY = ("up", "healthy")


def render_table(rows: list[tuple[str, str, str]]) -> str:
    """Rows of (component, address, health) as an aligned text table with a header."""
    header = ("component", "address", "health")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*header), line.format(*("-" * w for w in widths))]
    out += [line.format(*row) for row in rows]
    return "\n".join(out)
