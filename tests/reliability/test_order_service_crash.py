"""The order service killed with SIGKILL while orders flow, then started again.

Buyers retry a 503 with the same Idempotency-Key, as the problem tells them to. Once
the sweeper has settled what was left pending, no order is lost (every confirmed
reservation has its order, every 201 answer names an order that exists) and none is
doubled (one order per reservation, none for a cancelled one), and the books balance.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import pytest
import requests

from shop_local.probes import port_open
from tests.integration.ordering.conftest import running, sql
from tests.reliability.conftest import Shop, assert_books_balance, is_retryable_503
from tests.support.polling import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

BUYERS = 8
ORDERS_PER_BUYER = 40
RETRIES = 3
INITIAL_STOCK = BUYERS * ORDERS_PER_BUYER


def test_no_order_is_lost_or_doubled_when_the_order_service_is_killed(shop: Shop) -> None:
    product_id = shop.new_product(stock=INITIAL_STOCK)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def buy(token: str) -> None:
        for _ in range(ORDERS_PER_BUYER):
            key = str(uuid.uuid4())
            for _attempt in range(RETRIES):
                response = shop.order(product_id, token, key=key, timeout=60)
                with lock:
                    answers.append(response)
                if response.status_code != 503:
                    break
                time.sleep(float(response.headers.get("Retry-After", "1")))

    threads = [threading.Thread(target=buy, args=(token,), daemon=True)
               for _, token in shop.buyers[:BUYERS]]
    for thread in threads:
        thread.start()
    wait_until(lambda: sum(r.status_code == 201 for r in answers) >= 30, 60,
               what="orders flowing")
    victim = running(shop.stack, "order")
    assert victim is not None
    os.kill(victim.process.pid, signal.SIGKILL)
    victim.process.wait(10)
    wait_until(lambda: not port_open("127.0.0.1", victim.port), 10, what="the port released")
    time.sleep(1.0)  # orders meet a dead order service for a moment
    shop.stack.start("order")
    for thread in threads:
        thread.join(300)

    statuses = {r.status_code for r in answers}
    assert statuses <= {201, 503}, {(r.status_code, r.text[:200]) for r in answers}
    assert all(is_retryable_503(r) for r in answers if r.status_code == 503)
    assert any(r.status_code == 503 for r in answers)  # the crash was felt
    shop.settle_until_done()
    books = assert_books_balance(shop.stack, product_id, INITIAL_STOCK)
    told = {r.json()["id"] for r in answers if r.status_code == 201}
    stored = {str(row.id) for row in sql(shop.stack, "order",
                                         "SELECT id FROM orders WHERE product_id = :id",
                                         id=product_id)}
    assert told <= stored
    assert len(stored) == len(books.orders) == len(books.confirmed_ids)
