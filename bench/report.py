"""The one table `make bench` prints and the results.json it writes.

Every figure is the median of its rounds, and the rounds of the variants compared
in one row group are interleaved (A B C A B C ...), so a slow minute on a shared
machine hits every variant alike. Every ratio is against a baseline measured in
the same run, and names it.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bench.loadgen import LoadResult

T = TypeVar("T")


@dataclass
class Row:
    section: str
    name: str
    value: float | None
    unit: str
    p50_ms: float | None = None
    p99_ms: float | None = None
    ratio: float | None = None
    baseline: str = ""
    note: str = ""
    samples: list[float] = field(default_factory=list)

    def against(self, other: Row, label: str | None = None) -> Row:
        """Set this row's ratio to its value over `other`'s."""
        if self.value is not None and other.value:
            self.ratio = self.value / other.value
        self.baseline = label or other.name
        return self


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def interleaved(variants: dict[str, Callable[[], T]], rounds: int) -> dict[str, list[T]]:
    """Run every variant once per round, in the same order each round."""
    results: dict[str, list[T]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            results[name].append(run())
    return results


def load_row(section: str, name: str, runs: list[LoadResult]) -> Row:
    """Median req/s, p50 and p99 of interleaved load runs; errors summed into the note."""
    errors = sum(r.errors for r in runs)
    return Row(section, name, median([r.per_second for r in runs]), "req/s",
               p50_ms=median([r.p50_ms for r in runs]), p99_ms=median([r.p99_ms for r in runs]),
               note=f"{errors} errors" if errors else "",
               samples=[round(r.per_second, 1) for r in runs])


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:,.1f}"
    else:
        text = f"{value:,.2f}"
    return f"{text} {unit}".strip()


def _ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}x" if value < 0.1 else f"{value:.2f}x"


def render(rows: list[Row]) -> str:
    header = ("section", "measurement", "median", "p50 ms", "p99 ms", "ratio", "against", "note")
    lines = [header]
    for row in rows:
        lines.append((
            row.section, row.name, _number(row.value, row.unit), _number(row.p50_ms),
            _number(row.p99_ms), _ratio(row.ratio),
            row.baseline, row.note,
        ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    previous = None
    for index, line in enumerate(lines):
        if index > 1 and line[0] != previous:
            out.append("")
        previous = line[0]
        out.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
                   .rstrip())
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def write_results(path: Path, rows: list[Row], context: dict[str, Any]) -> None:
    document = {**context, "rows": [asdict(row) for row in rows]}
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
