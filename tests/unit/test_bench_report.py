"""`make bench`'s bookkeeping: interleaved rounds, medians, ratios named, one table."""

from __future__ import annotations

from bench.loadgen import LoadResult, percentile
from bench.report import Row, interleaved, load_row, render


def test_can_interleave_variants_round_by_round() -> None:
    calls: list[str] = []
    results = interleaved({name: (lambda name=name: calls.append(name) or name)
                           for name in "ABC"}, rounds=3)
    assert "".join(calls) == "ABCABCABC"
    assert results == {"A": ["A"] * 3, "B": ["B"] * 3, "C": ["C"] * 3}


def test_a_load_row_is_the_median_of_its_rounds_and_sums_their_errors() -> None:
    runs = [LoadResult(1000, 2.0, 1.0, 9.0, 0), LoadResult(3000, 2.0, 3.0, 30.0, 2),
            LoadResult(2000, 2.0, 2.0, 20.0, 1)]
    row = load_row("routes", "c16 GET /x", runs)
    assert (row.value, row.p50_ms, row.p99_ms) == (1000.0, 2.0, 20.0)
    assert row.note == "3 errors" and row.samples == [500.0, 1500.0, 1000.0]


def test_a_ratio_names_its_baseline() -> None:
    baseline = Row("routes", "c16 GET /ping", 4000.0, "req/s")
    row = Row("routes", "c16 GET /products", 2000.0, "req/s").against(baseline)
    assert row.ratio == 0.5 and row.baseline == "c16 GET /ping"
    table = render([baseline, row])
    assert "0.50x" in table and "c16 GET /ping" in table.splitlines()[-1]


def test_percentiles_are_nearest_rank() -> None:
    ordered = [float(x) for x in range(1, 101)]
    assert percentile(ordered, 0.5) == 50.0 and percentile(ordered, 0.99) == 99.0
    assert percentile([], 0.5) == 0.0
