"""The fault suite's stack: its own PostgreSQL cluster and redis-server, which it may break.

The machine's PostgreSQL and Redis are shared and are never stopped; this package
starts private ones on free ports (tests/support/private_servers.py) and a
throw-away stack on them (RabbitMQ stays the shared one, in the run's own vhost).
Every fault is bounded: a few seconds of outage, a bounded number of orders.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.ordering.conftest import make_buyers, scalar, sql
from tests.support.client import DEFAULT_PASSWORD, ShopClient
from tests.support.polling import wait_until
from tests.support.private_servers import PrivatePostgres, PrivateRedis
from tests.support.stack import ThrowawayStack

# The sweeper settles a reservation left pending this long after it was made.
SETTLE_AFTER_SECONDS = "2"


@pytest.fixture(scope="package")
def private_postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres().create()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="package")
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="package")
def fault_stack(tmp_path_factory: pytest.TempPathFactory, private_postgres: PrivatePostgres,
                private_redis: PrivateRedis) -> Iterator[ThrowawayStack]:
    stack = ThrowawayStack(Path(tmp_path_factory.mktemp("fault-stack")),
                           pg_admin_url=private_postgres.admin_url,
                           redis_admin_url=private_redis.admin_url)
    stack.set_up()
    stack.env["SHOP_PRODUCT_RESERVATION_SETTLE_AFTER_SECONDS"] = SETTLE_AFTER_SECONDS
    try:
        yield stack
    finally:
        if not private_postgres.running():
            private_postgres.start()  # a test failed half-way: tear down needs it
        if not private_redis.process or private_redis.process.poll() is not None:
            private_redis.start()
        stack.tear_down()


@dataclass
class Shop:
    """The fault stack's services and the accounts the tests use."""

    stack: ThrowawayStack
    users: ShopClient
    products: ShopClient
    orders: ShopClient
    superadmin: str
    buyers: list[tuple[str, str]] = field(default_factory=list)

    def new_product(self, stock: int, price: str = "5.00") -> str:
        response = self.products.call("POST", "/products", token=self.superadmin, json={
            "name": f"Fault {uuid.uuid4().hex[:8]}", "description": "fault suite",
            "price": price, "stock": stock})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def order(self, product_id: str, token: str, key: str | None = None,
              quantity: int = 1, client: ShopClient | None = None,
              timeout: float = 60) -> requests.Response:
        target = client or self.products
        return requests.post(
            f"{target.base_url}/products/{product_id}/orders", json={"quantity": quantity},
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                     "Idempotency-Key": key or str(uuid.uuid4())},
            timeout=timeout)

    def settle(self) -> str:
        """Run the sweeper once (it settles what has been pending SETTLE_AFTER_SECONDS)."""
        return self.stack.run_task("product", "settle_reservations")

    def pending(self) -> int:
        return int(scalar(self.stack, "product",
                          "SELECT count(*) FROM reservations WHERE status = 'pending'"))

    def settle_until_done(self, timeout: float = 90) -> None:
        """Run the sweeper until no reservation is pending (each waits to be due first)."""
        def settled() -> bool:
            self.settle()
            return self.pending() == 0

        wait_until(settled, timeout, interval=1.0, what="every reservation settled")


@pytest.fixture(scope="package")
def shop(fault_stack: ThrowawayStack) -> Shop:
    users = ShopClient.to(fault_stack.start("user").url)
    orders = ShopClient.to(fault_stack.start("order").url)
    products = ShopClient.to(fault_stack.start("product").url)
    email = f"root-{fault_stack.run_id}@example.com"
    fault_stack.run_task("user", "create_superadmin", email=email, password=DEFAULT_PASSWORD)
    login = users.call("POST", "/users/login", json={"email": email, "password": DEFAULT_PASSWORD})
    assert login.status_code == 200, login.text
    return Shop(fault_stack, users, products, orders, str(login.json()["access_token"]),
                make_buyers(fault_stack, 40))


# -- what must hold after every fault ---------------------------------------------------


@dataclass(frozen=True)
class Ledger:
    initial: int
    final: int
    counted: int  # quantities of reservations that took stock (not cancelled)
    pending: int
    orders: set[str]  # idempotency keys of the order service's orders = reservation ids
    confirmed_ids: set[str]


def ledger(stack: ThrowawayStack, product_id: str, initial: int,
           since_last_update: bool = False) -> Ledger:
    """The product's books. `since_last_update`: a superadmin's PUT set the stock to
    `initial`, so only reservations made after it (under the same row lock) count."""
    final = int(scalar(stack, "product", "SELECT stock FROM products WHERE id = :id",
                       id=product_id))
    rows = sql(stack, "product",
               "SELECT r.id, r.status, r.quantity, r.created_at > p.updated_at AS after_update "
               "FROM reservations r JOIN products p ON p.id = r.product_id "
               "WHERE r.product_id = :id", id=product_id)
    taken = [r for r in rows if r.status != "cancelled"
             and (r.after_update or not since_last_update)]
    orders = {str(r[0]) for r in sql(stack, "order", "SELECT idempotency_key FROM orders "
                                                     "WHERE product_id = :id", id=product_id)}
    return Ledger(initial, final, sum(r.quantity for r in taken),
                  sum(1 for r in rows if r.status == "pending"), orders,
                  {str(r.id) for r in rows if r.status == "confirmed"})


def assert_books_balance(stack: ThrowawayStack, product_id: str, initial: int,
                         since_last_update: bool = False) -> Ledger:
    """Nothing left pending; initial stock = final stock + confirmed quantities (no
    oversell: the final stock is never negative); exactly one order per confirmed
    reservation and none for any other (no order lost or doubled)."""
    books = ledger(stack, product_id, initial, since_last_update)
    assert books.pending == 0, books
    assert books.final >= 0, books
    assert books.initial == books.final + books.counted, books
    assert books.orders == books.confirmed_ids, books
    return books


def problem_slug(response: requests.Response) -> str:
    return str(response.json().get("type", "")).rsplit("/", 1)[-1]


def is_retryable_503(response: requests.Response) -> bool:
    return (response.status_code == 503
            and response.headers.get("Content-Type") == "application/problem+json"
            and int(response.headers.get("Retry-After", "0")) >= 1)


def run_concurrently(calls: list[Any], workers: int) -> list[Any]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda call: call(), calls))
