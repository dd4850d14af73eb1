"""Ordering one hot product at 1, 8 and 32 concurrent buyers.

The product service places an order as a saga (reserve and commit, then call the
order service) or as the seed did (`SHOP_ORDER_STRATEGY=hold-lock`: the row stays
locked across that call). Four product services run side by side: each strategy
with the order service direct ("fast") and behind a proxy that answers every call
300 ms late ("slow": the app is untouched, only its `ORDER_SERVICE_URL` differs).
The floor is what the database alone does on the same row: `SELECT … FOR UPDATE;
UPDATE; COMMIT` from as many connections as a product service may hold (at most the
buyers), with no HTTP at all.

Each cell: a fresh product with ample stock, every buyer ordering one unit after
another (own Idempotency-Key each) for the run's length; orders/s counts the 201s.
Each cell is checked afterwards: orders the order service holds ≤ units the product
lost, both ≥ the 201 answers, stock never negative. A sell-out burst per service (32
buyers, 10 units) checks that no more than the stock is ever sold. Any oversell
fails the run.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from sqlalchemy import Engine, create_engine, text

from bench.context import Context
from bench.delay_proxy import delaying
from bench.loadgen import percentile
from bench.report import Row, interleaved, median
from bench.shopstack import POOL_SIZE
from tests.integration.events.ordering import Buyer
from tests.support.stack import ServiceProcess, free_port

SECTION = "ordering"
BUYERS = (1, 8, 32)
SLOW_SECONDS = 0.3
AMPLE_STOCK = 1_000_000
SELL_OUT_STOCK = 10
SELL_OUT_BUYERS = 32
STRATEGIES = ("saga", "hold-lock")
FLOOR_CONNECTIONS = 2 * POOL_SIZE  # no more than a product service's pool may hold
SPEEDS = ("fast", "slow")


class Oversold(RuntimeError):
    """More was sold than the stock, or an order exists for a unit never taken."""


@dataclass
class Cell:
    created: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.created / self.seconds if self.seconds else 0.0

    def count(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status == 201:
            self.created += 1


def place_orders(url: str, buyers: list[Buyer], seconds: float, once: bool = False) -> Cell:
    """Every buyer orders one unit after another until `seconds` pass (or once each)."""
    cell = Cell()
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + seconds

    def buyer_loop(buyer: Buyer) -> None:
        with requests.Session() as session:
            while True:
                sent = time.perf_counter()
                try:
                    status = session.post(url, json={"quantity": 1}, timeout=30, headers={
                        "Authorization": f"Bearer {buyer.token}",
                        "Idempotency-Key": str(uuid.uuid4())}).status_code
                except requests.RequestException:
                    status = 0
                with lock:
                    cell.count(status)
                    cell.latencies.append(time.perf_counter() - sent)
                if once or time.monotonic() >= deadline:
                    return

    threads = [threading.Thread(target=buyer_loop, args=(b,)) for b in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cell.seconds = time.monotonic() - started
    return cell


def floor_orders(engine: Engine, product_id: str, connections: int, seconds: float) -> Cell:
    """The row lock alone: FOR UPDATE; UPDATE; COMMIT in a loop on `connections` connections."""
    cell = Cell()
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + seconds

    def loop() -> None:
        with engine.connect() as connection:
            while time.monotonic() < deadline:
                sent = time.perf_counter()
                with connection.begin():
                    connection.execute(text("SELECT stock FROM products WHERE id = :id FOR UPDATE"),
                                       {"id": product_id})
                    connection.execute(text("UPDATE products SET stock = stock - 1 WHERE id = :id"),
                                       {"id": product_id})
                with lock:
                    cell.count(201)
                    cell.latencies.append(time.perf_counter() - sent)

    threads = [threading.Thread(target=loop) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cell.seconds = time.monotonic() - started
    return cell


@dataclass
class Databases:
    product: Engine
    order: Engine

    def stock(self, product_id: str) -> int:
        with self.product.connect() as connection:
            return int(connection.execute(text("SELECT stock FROM products WHERE id = :id"),
                                          {"id": product_id}).scalar_one())

    def orders(self, product_id: str) -> int:
        with self.order.connect() as connection:
            return int(connection.execute(
                text("SELECT count(*) FROM orders WHERE product_id = :id"),
                {"id": uuid.UUID(product_id)}).scalar_one())

    def check(self, label: str, product_id: str, stock: int, cell: Cell) -> str:
        """Raise Oversold on an oversell; return a note when the books differ otherwise."""
        left, orders = self.stock(product_id), self.orders(product_id)
        sold = stock - left
        if left < 0 or orders > sold or cell.created > orders:
            raise Oversold(f"{label}: stock {stock} -> {left}, {orders} orders, "
                           f"{cell.created} x 201")
        # A 503 leaves a reservation pending for the sweeper: sold, not yet ordered.
        return "" if orders == sold else f"{sold - orders} pending"


def floor_label(count: int) -> str:
    connections = min(count, FLOOR_CONNECTIONS)
    return f"{count} buyers, floor: FOR UPDATE; UPDATE; COMMIT ({connections} connections)"


def note(cell: Cell, books: str) -> str:
    others = {s: n for s, n in sorted(cell.statuses.items()) if s != 201}
    parts = [f"{n} x {s or 'no answer'}" for s, n in others.items()]
    return ", ".join(parts + ([books] if books else []))


def run(ctx: Context) -> list[Row]:
    stack = ctx.stack
    seconds = max(ctx.seconds, 2.0)
    order_port = stack.service("order").port
    env = stack.stack.env
    dbs = Databases(create_engine(env["SHOP_PRODUCT_DATABASE_URL"], pool_size=FLOOR_CONNECTIONS),
                    create_engine(env["SHOP_ORDER_DATABASE_URL"], pool_size=1))
    buyers = stack.shop.new_buyers(max(max(BUYERS), SELL_OUT_BUYERS))
    extra: list[ServiceProcess] = []
    try:
        with delaying(order_port, SLOW_SECONDS) as slow_url:
            urls = {("saga", "fast"): stack.url("product")}
            for strategy in STRATEGIES:
                for speed in SPEEDS:
                    if (strategy, speed) in urls:
                        continue
                    overrides = {"SHOP_PRODUCT_ORDER_STRATEGY": strategy}
                    if speed == "slow":
                        overrides["SHOP_PRODUCT_ORDER_SERVICE_URL"] = slow_url
                    extra.append(stack.stack.start("product", port=free_port(), **overrides))
                    urls[(strategy, speed)] = extra[-1].url
            rows = measure(ctx, dbs, urls, buyers, seconds)
            rows += sell_out(stack, dbs, urls, buyers)
    finally:
        for process in extra:  # their database connections go back to the shared server
            process.stop()
        dbs.product.dispose()
        dbs.order.dispose()
    return rows


def measure(ctx: Context, dbs: Databases, urls: dict[tuple[str, str], str],
            buyers: list[Buyer], seconds: float) -> list[Row]:
    stack = ctx.stack
    cells: dict[str, Callable[[], tuple[Cell, str]]] = {}
    for count in BUYERS:
        for speed in SPEEDS:
            for strategy in STRATEGIES:
                url = urls[(strategy, speed)]

                def cell(url: str = url, count: int = count, label: str = "") -> tuple[Cell, str]:
                    product_id = stack.new_product(AMPLE_STOCK, url)
                    result = place_orders(f"{url}/products/{product_id}/orders",
                                          buyers[:count], seconds)
                    return result, dbs.check(label, product_id, AMPLE_STOCK, result)

                label = f"{count} buyers, {speed} order service, {strategy}"
                cells[label] = lambda cell=cell, label=label: cell(label=label)

        def floor(count: int = count) -> tuple[Cell, str]:
            product_id = stack.new_product(AMPLE_STOCK)
            connections = min(count, FLOOR_CONNECTIONS)
            return floor_orders(dbs.product, product_id, connections, seconds), ""

        cells[floor_label(count)] = floor
    results = interleaved(cells, ctx.rounds)
    rows: dict[str, Row] = {}
    for label, runs in results.items():
        every = sorted(x for cell, _ in runs for x in cell.latencies)
        notes = [n for n in (note(cell, books) for cell, books in runs) if n]
        rows[label] = Row(SECTION, label, median([cell.per_second for cell, _ in runs]),
                          "orders/s", p50_ms=1000 * percentile(every, 0.5),
                          p99_ms=1000 * percentile(every, 0.99), note="; ".join(notes)[:80],
                          samples=[round(cell.per_second, 1) for cell, _ in runs])
    for count in BUYERS:
        floor_row = rows[floor_label(count)]
        for speed in SPEEDS:
            saga = rows[f"{count} buyers, {speed} order service, saga"]
            saga.against(floor_row)
            rows[f"{count} buyers, {speed} order service, hold-lock"].against(saga)
    return list(rows.values())


def sell_out(stack: Any, dbs: Databases, urls: dict[tuple[str, str], str],
             buyers: list[Buyer]) -> list[Row]:
    """32 buyers at once on 10 units, once per service: never more than 10 sold."""
    rows = []
    for (strategy, speed), url in urls.items():
        product_id = stack.new_product(SELL_OUT_STOCK, url)
        cell = place_orders(f"{url}/products/{product_id}/orders",
                            buyers[:SELL_OUT_BUYERS], 0, once=True)
        label = f"sell-out {SELL_OUT_STOCK} units to {SELL_OUT_BUYERS} buyers, {speed}, {strategy}"
        books = dbs.check(label, product_id, SELL_OUT_STOCK, cell)
        if cell.created > SELL_OUT_STOCK:
            raise Oversold(f"{label}: {cell.created} x 201")
        rows.append(Row(SECTION, label, cell.created, "sold", note=note(cell, books)
                        + f"; {dbs.stock(product_id)} left"))
    return rows
