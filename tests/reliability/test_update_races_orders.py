"""A superadmin's update racing 100 orders on one product row.

Both take the row lock: no deadlock (it would surface as a 500), and no request
waits past the lock timeout — a wait that did not get the lock in time ends as 409
`locked`. The superadmin's PUT sets the stock, so the books count the orders made
after the last update (under the same lock, so their order is the lock's).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
import requests

from shop_common.config import Settings
from tests.reliability.conftest import (
    Shop,
    assert_books_balance,
    problem_slug,
    run_concurrently,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ORDERS = 100
UPDATES = 10
STOCK = 150
LOCK_TIMEOUT_SECONDS = Settings.model_fields["db_lock_timeout_ms"].default / 1000
# A request that waited on the lock forever would show up here; the rest of the bound
# absorbs a machine shared by several test runs. Not a speed limit.
HANG_SECONDS = LOCK_TIMEOUT_SECONDS + 20


def timed(call: Callable[[], requests.Response]) -> Callable[[], tuple[float, requests.Response]]:
    def run() -> tuple[float, requests.Response]:
        started = time.monotonic()
        response = call()
        return time.monotonic() - started, response
    return run


def test_a_superadmin_update_racing_100_orders_neither_deadlocks_nor_hangs(shop: Shop) -> None:
    product_id = shop.new_product(stock=STOCK, price="5.00")
    buyers = shop.buyers

    def order(n: int) -> requests.Response:
        return shop.order(product_id, buyers[n % len(buyers)][1], key=str(uuid.uuid4()))

    def update(n: int) -> requests.Response:
        return requests.put(f"{shop.products.base_url}/products/{product_id}", timeout=60,
                            headers={"Authorization": f"Bearer {shop.superadmin}"},
                            json={"name": "Raced", "description": f"update {n}",
                                  "price": f"{5 + n}.00", "stock": STOCK})

    calls = [timed(lambda n=n: order(n)) for n in range(ORDERS)]
    for n in range(UPDATES):  # spread through the orders
        calls.insert(n * (ORDERS // UPDATES) + n, timed(lambda n=n: update(n)))
    results = run_concurrently(calls, workers=24)

    for elapsed, response in results:
        assert response.status_code < 500, response.text
        assert elapsed < HANG_SECONDS, (elapsed, response.text)
        if response.status_code == 409:
            assert problem_slug(response) == "locked", response.text
    updates = [r for _, r in results if r.request.method == "PUT"]
    orders = [r for _, r in results if r.request.method == "POST"]
    assert {r.status_code for r in updates} <= {200, 409}
    assert {r.status_code for r in orders} <= {201, 409}
    assert any(r.status_code == 200 for r in updates)
    assert any(r.status_code == 201 for r in orders)
    shop.settle_until_done()
    assert_books_balance(shop.stack, product_id, STOCK, since_last_update=True)
