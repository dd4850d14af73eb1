"""`python -m bench.compare BEFORE.json AFTER.json`: the rows two runs share, side by side.

A row is matched by section and measurement; the ratio is after / before. Two runs
are two moments of a shared machine, so these ratios are noisier than the ones
inside one run: read them next to each run's own ratios against its baselines.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.report import Row, render


def rows_of(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    document = json.loads(path.read_text())
    return {(row["section"], row["name"]): row for row in document["rows"]}


def compare(before: Path, after: Path) -> list[Row]:
    old, new = rows_of(before), rows_of(after)
    compared = []
    for key, row in new.items():
        previous = old.get(key)
        if previous is None or row["value"] is None or not previous["value"]:
            continue
        compared.append(Row(
            row["section"], row["name"], row["value"], row["unit"], row["p50_ms"],
            row["p99_ms"], row["value"] / previous["value"], "before",
            f"before: {previous['value']:,.1f} {row['unit']}"
            + (f", p99 {previous['p99_ms']:,.1f} ms" if previous.get("p99_ms") else "")))
    return compared


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    print(render(compare(args.before, args.after)))


if __name__ == "__main__":
    main()
