"""Requests per second on reused HTTP/1.1 connections: one connection, then N at once.

Each run is bounded by a request count and a time cap, whichever comes first,
so a slow baseline cannot make the benchmark run for minutes.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass

from bench.transport import SHOP, STOCK, Transport, serving

PATH = "/ping"


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def run_connection(port: int, max_requests: int, deadline: float) -> int:
    """Send GETs on one kept-alive connection until the count or the deadline; return how many."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    done = 0
    try:
        while done < max_requests and time.monotonic() < deadline:
            connection.request("GET", PATH)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {PATH} answered {response.status}")
            done += 1
    finally:
        connection.close()
    return done


def measure(port: int, connections: int, requests_per_connection: int,
            cap_seconds: float) -> Result:
    counts = [0] * connections
    errors: list[BaseException] = []
    started = time.monotonic()
    deadline = started + cap_seconds

    def worker(index: int) -> None:
        try:
            counts[index] = run_connection(port, requests_per_connection, deadline)
        except BaseException as exc:  # reported after the run, not lost in a thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return Result(sum(counts), time.monotonic() - started)


@dataclass(frozen=True)
class Scenario:
    label: str
    connections: int
    requests_per_connection: int


def scenarios(connections: int, requests: int) -> list[Scenario]:
    return [
        Scenario("1 keep-alive connection", 1, requests),
        Scenario(f"{connections} concurrent keep-alive connections", connections,
                 max(1, requests // connections)),
    ]


def run_scenario(transport: Transport, scenario: Scenario, cap_seconds: float) -> Result:
    with serving(transport) as port:
        run_connection(port, 20, time.monotonic() + cap_seconds)  # warm up
        return measure(port, scenario.connections, scenario.requests_per_connection,
                       cap_seconds)


def render(rows: list[tuple[Scenario, Result, Result]]) -> str:
    header = ("scenario", f"{STOCK.name} req/s", f"{SHOP.name} req/s", "ratio")
    lines = [
        (s.label, f"{stock.per_second:,.0f} ({stock.requests})",
         f"{shop.per_second:,.0f} ({shop.requests})",
         f"{shop.per_second / stock.per_second:.1f}x" if stock.per_second else "n/a")
        for s, stock, shop in rows
    ]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(4)]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
           for row in [header, *lines]]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def run(connections: int = 8, requests: int = 2000, cap_seconds: float = 10.0) -> str:
    rows = []
    for scenario in scenarios(connections, requests):
        stock = run_scenario(STOCK, scenario, cap_seconds)
        shop = run_scenario(SHOP, scenario, cap_seconds)
        rows.append((scenario, stock, shop))
    return render(rows)
