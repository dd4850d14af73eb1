"""PostgreSQL killed (`pg_ctl stop -m immediate`, as a crash) and started again while orders flow.

During the outage every answer is a 503 problem with Retry-After (never a 500); once
the database is back orders succeed again without restarting any service; every
order a buyer was told about (201) exists; nothing is oversold, and after the sweeper
the books balance: initial stock = final stock + confirmed quantities.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest
import requests

from tests.integration.ordering.conftest import scalar
from tests.reliability.conftest import Shop, assert_books_balance, is_retryable_503, problem_slug
from tests.support.polling import wait_until
from tests.support.private_servers import PrivatePostgres

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

BUYERS = 8
OUTAGE_SECONDS = 3.0
MAX_ORDERS_PER_BUYER = 120  # bounded, whatever happens
# A buyer told to come back (503 with Retry-After) waits as asked, as a client should;
# without it the outage's quick 503s used up the attempts before the database was back.
MAX_RETRY_AFTER_SECONDS = 5
INITIAL_STOCK = BUYERS * MAX_ORDERS_PER_BUYER  # never sold out: every refusal is the fault's


@dataclass(frozen=True)
class Attempt:
    started: float
    ended: float
    status: int
    slug: str
    order_id: str | None
    buyer: str
    retryable: bool


class Buyers:
    def __init__(self, shop: Shop, product_id: str) -> None:
        self.shop, self.product_id = shop, product_id
        self.attempts: list[Attempt] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self, user_id: str, token: str) -> None:
        for _ in range(MAX_ORDERS_PER_BUYER):
            if self.stop.is_set():
                return
            started = time.monotonic()
            try:
                response = self.shop.order(self.product_id, token, timeout=60)
            except requests.RequestException:
                continue  # never happens with a live service; counted as no answer
            body = response.json()
            attempt = Attempt(started, time.monotonic(), response.status_code,
                              problem_slug(response) if response.status_code >= 400 else "",
                              body.get("id") if response.status_code == 201 else None,
                              user_id, is_retryable_503(response))
            with self.lock:
                self.attempts.append(attempt)
            if attempt.retryable:
                time.sleep(min(int(response.headers["Retry-After"]), MAX_RETRY_AFTER_SECONDS))
            else:
                time.sleep(0.02)

    def created_after(self, moment: float) -> int:
        with self.lock:
            return sum(1 for a in self.attempts if a.status == 201 and a.started > moment)


def test_orders_survive_an_immediate_postgresql_restart(
        shop: Shop, private_postgres: PrivatePostgres) -> None:
    product_id = shop.new_product(stock=INITIAL_STOCK)
    buyers = Buyers(shop, product_id)
    threads = [threading.Thread(target=buyers.run, args=buyer, daemon=True)
               for buyer in shop.buyers[:BUYERS]]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: buyers.created_after(0) >= 20, 60, what="orders flowing")
        down_at = time.monotonic()
        private_postgres.stop("immediate")
        time.sleep(OUTAGE_SECONDS)
        private_postgres.start()
        up_at = time.monotonic()
        wait_until(lambda: buyers.created_after(up_at) >= 10, 60,
                   what="orders succeeding again after the restart")
        recovered_after = min(a.ended for a in buyers.attempts
                              if a.status == 201 and a.started > up_at) - up_at
        print(f"first order after the restart: {recovered_after:.1f} s")
    finally:
        buyers.stop.set()
        for thread in threads:
            thread.join(120)

    attempts = buyers.attempts
    assert not [a for a in attempts if a.status >= 500 and not a.retryable], attempts
    assert {a.status for a in attempts} <= {201, 503}, {(a.status, a.slug) for a in attempts}
    during = [a for a in attempts if a.started >= down_at and a.ended <= up_at]
    assert during and all(a.status == 503 and a.retryable for a in during), during
    assert {a.slug for a in during} <= {"db-unavailable", "order-unconfirmed"}

    created = {a.order_id for a in attempts if a.status == 201}
    stored = {str(row) for row in [scalar(shop.stack, "order",
                                          "SELECT array_agg(id::text) FROM orders "
                                          "WHERE product_id = :id", id=product_id)][0]}
    assert created <= stored  # every order a buyer was told about exists
    shop.settle_until_done()
    books = assert_books_balance(shop.stack, product_id, INITIAL_STOCK)
    assert len(books.orders) >= len(created)
