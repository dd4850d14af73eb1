"""Placing orders on one hot product: the reservation saga vs holding the row lock.

The product service places an order either as a saga (reserve and commit, then call
the order service) or as the seed did (`hold-lock`: the product row stays locked
across that call); `SHOP_ORDER_STRATEGY` picks one. Both run here in one process
against the same throw-away stack (its own databases, roles, vhost and keys, real
service processes on free ports): user and order services once, then one product
service per strategy on the same port, the first stopped before the second starts.

Each strategy gets a fresh hot product with `stock` units and `buyers` distinct
endusers, each ordering one unit with its own Idempotency-Key, `concurrency` at a
time. Measured: orders per second until the last 201, p50/p95 latency of every
answer, the count of 201, 409 and anything else, and the invariant: orders the order
service holds == units the product lost == 201 answers, never more than the stock.
Each strategy's load is capped at an even share of `cap_seconds`; buyers not sent by
then are shown.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

from tests.integration.events.ordering import Buyer, OrderingStack
from tests.support.client import DEFAULT_PASSWORD, ShopClient, login
from tests.support.stack import ThrowawayStack

BASELINE = "saga"
STRATEGIES = (BASELINE, "hold-lock")
WARM_UP_ORDERS = 3
NO_ANSWER = 0  # status recorded for a timeout or a connection error


@dataclass(frozen=True)
class Attempt:
    status: int
    kind: str  # the problem type's last segment ("out-of-stock", "locked"), "" for 201
    seconds: float
    finished: float  # seconds from the start of the burst to this answer


@dataclass(frozen=True)
class Result:
    strategy: str
    stock: int
    attempts: list[Attempt]
    not_sent: int
    wall_seconds: float
    stock_left: int
    orders_created: int
    pending_reservations: int

    def count(self, status: int) -> int:
        return sum(1 for a in self.attempts if a.status == status)

    @property
    def created(self) -> int:
        return self.count(201)

    @property
    def conflicts(self) -> int:
        return self.count(409)

    @property
    def locked(self) -> int:
        return sum(1 for a in self.attempts if a.status == 409 and a.kind == "locked")

    @property
    def other(self) -> int:
        return len(self.attempts) - self.created - self.conflicts

    @property
    def sell_seconds(self) -> float:
        """Until the last 201: after it only quick 409s are left, which say nothing of
        how fast a contended product sells."""
        return max((a.finished for a in self.attempts if a.status == 201), default=0.0)

    @property
    def orders_per_second(self) -> float:
        return self.created / self.sell_seconds if self.sell_seconds > 0 else 0.0

    def latency_ms(self, quantile: float) -> float:
        """Nearest-rank percentile over every answer (a quick 409 counts as much as a 201)."""
        ordered = sorted(a.seconds for a in self.attempts)
        if not ordered:
            return 0.0
        return 1000 * ordered[max(0, math.ceil(quantile * len(ordered)) - 1)]

    @property
    def sold(self) -> int:
        return self.stock - self.stock_left

    @property
    def invariant_holds(self) -> bool:
        return (self.orders_created == self.sold == self.created
                and 0 <= self.stock_left <= self.stock)


# --- the stack ----------------------------------------------------------------------

def superadmin_token(stack: ThrowawayStack, users: ShopClient) -> str:
    email = f"bench-root-{stack.run_id}@example.com"
    stack.run_task("user", "create_superadmin", email=email, password=DEFAULT_PASSWORD)
    return login(users, email)


def new_buyers(stack: ThrowawayStack, users: ShopClient, count: int) -> list[Buyer]:
    """Endusers written straight into the user database, with tokens from its key:
    signing up hundreds through the API would time argon2, not ordering."""
    return OrderingStack(stack, users).new_buyers(count)


def new_product(products: ShopClient, admin_token: str, stock: int) -> str:
    response = products.call("POST", "/products", token=admin_token, json={
        "name": f"Hot item {uuid.uuid4().hex[:8]}", "description": "benchmark",
        "price": "9.99", "stock": stock,
    })
    if response.status_code != 201:
        raise RuntimeError(f"POST /products answered {response.status_code}: {response.text}")
    return str(response.json()["id"])


def stock_of(products: ShopClient, admin_token: str, product_id: str) -> int:
    response = products.call("GET", f"/products/{product_id}", token=admin_token)
    response.raise_for_status()
    return int(response.json()["stock"])


def count_rows(stack: ThrowawayStack, service: str, statement: str, **params: Any) -> int:
    """A count from a service's own database, read as its owner (the API has no such view)."""
    engine = create_engine(stack.env[f"SHOP_{service.upper()}_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(statement), params).scalar_one())
    finally:
        engine.dispose()


# --- the load -----------------------------------------------------------------------

def order_one(session: requests.Session, url: str, token: str, timeout: float,
              burst_started: float) -> Attempt:
    started = time.monotonic()
    try:
        response = session.post(url, json={"quantity": 1}, timeout=timeout, headers={
            "Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4()),
        })
    except requests.RequestException:
        now = time.monotonic()
        return Attempt(NO_ANSWER, "no-answer", now - started, now - burst_started)
    now = time.monotonic()
    kind = ""
    if response.status_code != 201:
        try:
            kind = str(response.json().get("type", "")).rstrip("/").rsplit("/", 1)[-1]
        except ValueError:
            kind = "not-json"
    return Attempt(response.status_code, kind, now - started, now - burst_started)


def buy_concurrently(base_url: str, product_id: str, buyers: list[Buyer], concurrency: int,
                     cap_seconds: float) -> tuple[list[Attempt], int, float]:
    """Every buyer orders one unit, `concurrency` at a time, until done or the cap.

    Returns the answers, how many buyers were not sent before the cap, and the wall time.
    """
    url = f"{base_url}/products/{product_id}/orders"
    local = threading.local()
    sessions: list[requests.Session] = []
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + cap_seconds
    # A request in flight at the cap may run on for this long, and no longer.
    timeout = min(30.0, cap_seconds)

    def session() -> requests.Session:
        # One kept-alive connection per worker, as a client pool would hold.
        if not hasattr(local, "session"):
            local.session = requests.Session()
            with lock:
                sessions.append(local.session)
        return local.session  # type: ignore[no-any-return]

    def buy(buyer: Buyer) -> Attempt | None:
        if time.monotonic() >= deadline:
            return None
        return order_one(session(), url, buyer.token, timeout, started)

    try:
        with ThreadPoolExecutor(concurrency, thread_name_prefix="buyer") as pool:
            outcomes = list(pool.map(buy, buyers))
    finally:
        for each in sessions:
            each.close()
    wall = time.monotonic() - started
    attempts = [a for a in outcomes if a is not None]
    return attempts, len(outcomes) - len(attempts), wall


def measure(stack: ThrowawayStack, users: ShopClient, admin_token: str, strategy: str,
            stock: int, buyer_count: int, concurrency: int, cap_seconds: float) -> Result:
    # ThrowawayStack.start refuses a busy port, so the previous strategy's process must
    # be gone first; the caller stops it (finally below) before the next call.
    handle = stack.start("product", SHOP_PRODUCT_ORDER_STRATEGY=strategy)
    try:
        products = ShopClient.to(handle.url)
        # Warm-up: the first orders open the pools and the service-to-service connections.
        warm_product = new_product(products, admin_token, WARM_UP_ORDERS)
        warm = buy_concurrently(handle.url, warm_product, new_buyers(stack, users, WARM_UP_ORDERS),
                                1, cap_seconds)[0]
        if [a.status for a in warm] != [201] * WARM_UP_ORDERS:
            raise RuntimeError(f"{strategy}: warm-up orders answered {[a.status for a in warm]}")

        product_id = new_product(products, admin_token, stock)
        buyers = new_buyers(stack, users, buyer_count)
        attempts, not_sent, wall = buy_concurrently(handle.url, product_id, buyers,
                                                    concurrency, cap_seconds)
        return Result(
            strategy=strategy, stock=stock, attempts=attempts, not_sent=not_sent,
            wall_seconds=wall, stock_left=stock_of(products, admin_token, product_id),
            orders_created=count_rows(stack, "order",
                                      "SELECT count(*) FROM orders WHERE product_id = :id",
                                      id=uuid.UUID(product_id)),
            pending_reservations=count_rows(
                stack, "product",
                "SELECT count(*) FROM reservations WHERE product_id = :id AND status = 'pending'",
                id=uuid.UUID(product_id)),
        )
    finally:
        handle.stop()


# --- the report ---------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    label: str
    value: Callable[[Result], float]
    fmt: str = "{:,.0f}"


ROWS = [
    Row("orders/s (201s / sell-out time)", lambda r: r.orders_per_second, "{:,.1f}"),
    Row("p50 latency, ms", lambda r: r.latency_ms(0.50), "{:,.1f}"),
    Row("p95 latency, ms", lambda r: r.latency_ms(0.95), "{:,.1f}"),
    Row("201 created", lambda r: r.created),
    Row("409 conflict", lambda r: r.conflicts),
    Row("  of which lock timeouts", lambda r: r.locked),
    Row("other (5xx, no answer)", lambda r: r.other),
    Row("not sent before the cap", lambda r: r.not_sent),
    Row("sell-out time, s", lambda r: r.sell_seconds, "{:,.2f}"),
    Row("wall time (all buyers), s", lambda r: r.wall_seconds, "{:,.2f}"),
]


def ratio(value: float, baseline: float) -> str:
    if baseline == 0:
        return "=" if value == 0 else "n/a"
    return f"{value / baseline:.2f}x"


def invariant(result: Result) -> str:
    verdict = "ok" if result.invariant_holds else "VIOLATED"
    return (f"{verdict}: {result.orders_created} orders = {result.sold} sold"
            f" = {result.created} x 201, stock {result.stock} -> {result.stock_left}"
            f", {result.pending_reservations} pending")


def render(results: list[Result]) -> str:
    baseline = results[0]
    header = ["metric", *(r.strategy for r in results),
              *(f"{r.strategy} / {baseline.strategy}" for r in results[1:])]
    lines = [header]
    for row in ROWS:
        lines.append([row.label, *(row.fmt.format(row.value(r)) for r in results),
                      *(ratio(row.value(r), row.value(baseline)) for r in results[1:])])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
           for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    out.append("")
    out.extend(f"invariant, {r.strategy}: {invariant(r)}" for r in results)
    return "\n".join(out)


def run(stock: int = 100, buyers: int = 300, concurrency: int = 32,
        cap_seconds: float = 60.0) -> str:
    workdir = Path(tempfile.mkdtemp(prefix="shop-bench-ordering-"))
    stack = ThrowawayStack(workdir)
    try:
        stack.set_up()
        users = ShopClient.to(stack.start("user").url)
        stack.start("order")
        admin_token = superadmin_token(stack, users)
        share = cap_seconds / len(STRATEGIES)
        results = [measure(stack, users, admin_token, strategy, stock, buyers, concurrency, share)
                   for strategy in STRATEGIES]
    finally:
        stack.tear_down()
        shutil.rmtree(workdir, ignore_errors=True)
    return render(results)

