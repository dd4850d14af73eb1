"""`GET /products/{id}` is cached like the listing: MISS then HIT, and never stale.

Every read is warmed to a HIT first, so each test proves that the change it makes
(a superadmin write, an order taking stock, a sweeper restock) is what turns the
next read into a MISS that shows the new state.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from tests.integration.ordering.conftest import problem, running
from tests.support.client import ShopClient
from tests.support.polling import wait_until
from tests.support.stack import ThrowawayStack

pytestmark = pytest.mark.integration


def read(products: ShopClient, product_id: str, token: str) -> requests.Response:
    return products.call("GET", f"/products/{product_id}", token=token)


def warm(products: ShopClient, product_id: str, token: str) -> dict[str, Any]:
    """Read until the cache serves the product; its body as cached."""
    first = read(products, product_id, token)
    assert first.status_code == 200, first.text
    second = read(products, product_id, token)
    assert second.headers["X-Cache"] == "HIT", second.headers
    assert second.json() == first.json()
    return dict(second.json())


def fresh(products: ShopClient, product_id: str, token: str) -> dict[str, Any]:
    """The next read, which must come from the database (a MISS)."""
    response = read(products, product_id, token)
    assert response.status_code == 200, response.text
    assert response.headers["X-Cache"] == "MISS", response.headers
    return dict(response.json())


def order(products: ShopClient, product_id: str, token: str, quantity: int = 1,
          key: str | None = None) -> requests.Response:
    return products.call("POST", f"/products/{product_id}/orders", token=token,
                         json={"quantity": quantity},
                         headers={"Idempotency-Key": key or uuid.uuid4().hex})


def test_a_product_is_a_miss_then_a_hit_with_the_same_body(
    product_service: ShopClient, superadmin_token: str, new_product,
) -> None:
    product = new_product(stock=3)
    first = read(product_service, product["id"], superadmin_token)
    assert first.headers["X-Cache"] == "MISS" and first.json() == product
    assert warm(product_service, product["id"], superadmin_token) == product


def test_an_unknown_product_is_404_every_time_and_never_cached(
    product_service: ShopClient, superadmin_token: str, new_product,
) -> None:
    missing = str(uuid.uuid4())
    for _ in range(2):
        response = read(product_service, missing, superadmin_token)
        problem(response, 404)
        assert "X-Cache" not in response.headers
    # Cached 404s would hide a product created under that id later; ids are random, so
    # check the other way round: a deleted product is a 404 at once, not a stale 200.
    product = new_product()
    warm(product_service, product["id"], superadmin_token)
    deleted = product_service.call("DELETE", f"/products/{product['id']}", token=superadmin_token)
    assert deleted.status_code == 204
    problem(read(product_service, product["id"], superadmin_token), 404)


def test_a_superadmin_write_is_seen_by_the_very_next_read(
    product_service: ShopClient, superadmin_token: str, new_product,
) -> None:
    product = new_product(price="10.00", stock=5)
    warm(product_service, product["id"], superadmin_token)
    replaced = product_service.call("PUT", f"/products/{product['id']}", token=superadmin_token,
                                    json={"name": "Renamed", "price": "12.34", "stock": 9})
    assert replaced.status_code == 200, replaced.text
    after = fresh(product_service, product["id"], superadmin_token)
    assert after == replaced.json()
    assert (after["name"], after["price"], after["stock"]) == ("Renamed", "12.34", 9)


def test_an_order_taking_stock_is_seen_by_the_very_next_read(
    product_service: ShopClient, seed_buyers, new_product,
) -> None:
    product = new_product(stock=5)
    [(_, token)] = seed_buyers(1)
    assert warm(product_service, product["id"], token)["stock"] == 5
    placed = order(product_service, product["id"], token, quantity=2)
    assert placed.status_code == 201, placed.text
    assert fresh(product_service, product["id"], token)["stock"] == 3


def test_the_hold_lock_strategy_invalidates_too(
    seed_buyers, new_product, extra_process,
) -> None:
    holding = ShopClient.to(extra_process("product", SHOP_PRODUCT_ORDER_STRATEGY="hold-lock").url)
    product = new_product(stock=4)
    [(_, token)] = seed_buyers(1)
    assert warm(holding, product["id"], token)["stock"] == 4
    assert order(holding, product["id"], token, quantity=3).status_code == 201
    assert fresh(holding, product["id"], token)["stock"] == 1


def test_a_restock_by_the_sweeper_is_seen_by_the_next_read(
    stack: ThrowawayStack, order_service: ShopClient, seed_buyers, new_product, extra_process,
) -> None:
    # A product process of its own whose scheduled sweeper runs every second.
    sweeping = ShopClient.to(extra_process("product").url)
    product = new_product(stock=6)
    [(_, token)] = seed_buyers(1)
    order_process = running(stack, "order")
    assert order_process is not None
    order_process.stop()
    try:
        assert order(sweeping, product["id"], token, 2).status_code == 503
        # Held while the outcome is unknown, and cached that way.
        assert warm(sweeping, product["id"], token)["stock"] == 4
    finally:
        stack.start("order")
    # The sweeper voids the key, the order service says no order exists: restock. Only
    # an invalidation can make a cached "4" turn into "6".
    wait_until(lambda: read(sweeping, product["id"], token).json()["stock"] == 6)


def test_a_product_is_served_from_the_database_when_redis_is_down(
    superadmin_token: str, new_product, extra_process, free_tcp_port,
) -> None:
    product = new_product(stock=2)
    cacheless = ShopClient.to(extra_process(
        "product", SHOP_PRODUCT_REDIS_URL=f"redis://127.0.0.1:{free_tcp_port}/0").url)
    for _ in range(2):
        assert fresh(cacheless, product["id"], superadmin_token) == product
    replaced = cacheless.call("PUT", f"/products/{product['id']}", token=superadmin_token,
                              json={"name": product["name"], "price": "1.11", "stock": 2})
    assert replaced.status_code == 200, replaced.text
    assert fresh(cacheless, product["id"], superadmin_token)["price"] == "1.11"
    problem(read(cacheless, str(uuid.uuid4()), superadmin_token), 404)
