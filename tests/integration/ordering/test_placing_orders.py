"""Placing orders over real HTTP: the reservation saga between the product and order services."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.integration.ordering.conftest import (
    problem,
    running,
    scalar,
    user_token,
)
from tests.support.client import ShopClient, new_enduser
from tests.support.polling import wait_until
from tests.support.stack import ThrowawayStack

pytestmark = pytest.mark.integration


def order(products: ShopClient, product_id: str, token: str, quantity: Any = 1,
          key: str | None = None) -> requests.Response:
    return products.call("POST", f"/products/{product_id}/orders", token=token,
                         json={"quantity": quantity},
                         headers={"Idempotency-Key": key or uuid.uuid4().hex})


def stock_of(products: ShopClient, product_id: str, token: str) -> int:
    response = products.call("GET", f"/products/{product_id}", token=token)
    assert response.status_code == 200, response.text
    return int(response.json()["stock"])


def all_orders(orders: ShopClient, token: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = orders.call("GET", "/orders?limit=100" + (f"&cursor={cursor}" if cursor else ""),
                           token=token)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


def test_an_enduser_can_order_and_find_the_order(
    stack: ThrowawayStack, product_service: ShopClient, order_service: ShopClient,
    user_service: ShopClient, new_product,
) -> None:
    product = new_product(stock=5, price="9.99")
    buyer, token = new_enduser(user_service)
    response = order(product_service, product["id"], token, quantity=2)
    assert response.status_code == 201, response.text
    placed = response.json()
    assert placed["user_id"] == buyer["id"] and placed["product_id"] == product["id"]
    assert placed["product_name"] == product["name"] and placed["quantity"] == 2
    assert placed["unit_price"] == "9.99" and placed["total"] == "19.98"
    assert placed["status"] == "placed" and placed["created_at"]
    assert stock_of(product_service, product["id"], token) == 3

    assert all_orders(order_service, token) == [placed]
    fetched = order_service.call("GET", f"/orders/{placed['id']}", token=token)
    assert fetched.status_code == 200 and fetched.json() == placed

    event = scalar(stack, "order", "SELECT payload FROM outbox WHERE event_type = 'order.placed' "
                   "AND payload->'data'->>'order_id' = :id", id=placed["id"])
    assert event["type"] == "order.placed" and uuid.UUID(event["event_id"])
    assert event["data"] == {
        "order_id": placed["id"], "user_id": buyer["id"], "email": buyer["email"],
        "name": buyer["name"], "product_id": product["id"], "product_name": product["name"],
        "quantity": 2, "unit_price": "9.99", "total": "19.98",
        "placed_at": event["data"]["placed_at"],
    }


def test_a_replayed_key_returns_the_same_order_and_takes_stock_once(
    product_service: ShopClient, order_service: ShopClient, seed_buyers, new_product,
) -> None:
    product = new_product(stock=5)
    [(_, token)] = seed_buyers(1)
    key = uuid.uuid4().hex
    first = order(product_service, product["id"], token, quantity=2, key=key)
    again = order(product_service, product["id"], token, quantity=2, key=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert stock_of(product_service, product["id"], token) == 3
    assert len(all_orders(order_service, token)) == 1

    reused = order(product_service, product["id"], token, quantity=3, key=key)
    assert problem(reused, 422)["errors"][0]["field"] == "Idempotency-Key"
    other = new_product(stock=5)
    problem(order(product_service, other["id"], token, quantity=2, key=key), 422)
    assert stock_of(product_service, product["id"], token) == 3
    assert stock_of(product_service, other["id"], token) == 5


def test_one_key_sent_ten_times_at_once_makes_one_order(
    product_service: ShopClient, order_service: ShopClient, seed_buyers, new_product,
) -> None:
    product = new_product(stock=10)
    [(_, token)] = seed_buyers(1)
    key = uuid.uuid4().hex
    barrier = threading.Barrier(10)

    def send(_: int) -> tuple[int, Any]:
        with requests.Session() as session:
            barrier.wait(timeout=30)
            response = session.post(
                f"{product_service.base_url}/products/{product['id']}/orders",
                json={"quantity": 3}, timeout=60,
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
            )
        return response.status_code, response.json()

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(send, range(10)))
    assert {status for status, _ in answers} == {201}
    assert all(body == answers[0][1] for _, body in answers)
    assert stock_of(product_service, product["id"], token) == 7
    assert [o["id"] for o in all_orders(order_service, token)] == [answers[0][1]["id"]]


def test_a_hot_product_sells_exactly_its_stock_to_concurrent_buyers(
    stack: ThrowawayStack, product_service: ShopClient, order_service: ShopClient,
    superadmin_token: str, seed_buyers, new_product,
) -> None:
    product = new_product(stock=50)
    buyers = seed_buyers(200)

    def buy(buyer: tuple[str, str]) -> requests.Response:
        with requests.Session() as session:
            return session.post(
                f"{product_service.base_url}/products/{product['id']}/orders",
                json={"quantity": 1}, timeout=60,
                headers={"Authorization": f"Bearer {buyer[1]}",
                         "Idempotency-Key": uuid.uuid4().hex},
            )

    with ThreadPoolExecutor(len(buyers)) as pool:
        responses = list(pool.map(buy, buyers))
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 50 and statuses.count(409) == 150, sorted(set(statuses))
    for refused in (r for r in responses if r.status_code == 409):
        body = problem(refused, 409)
        assert body["type"].endswith("out-of-stock") and body["available"] == 0
    assert stock_of(product_service, product["id"], superadmin_token) == 0
    sold = [o for o in all_orders(order_service, superadmin_token)
            if o["product_id"] == product["id"]]
    assert len(sold) == 50
    assert {o["user_id"] for o in sold} == {
        r.json()["user_id"] for r in responses if r.status_code == 201}
    assert scalar(stack, "product", "SELECT count(*) FROM reservations WHERE product_id = :p "
                  "AND status = 'confirmed'", p=product["id"]) == 50


def test_out_of_stock_is_409_with_the_quantity_available(
    product_service: ShopClient, seed_buyers, new_product,
) -> None:
    product = new_product(stock=2)
    [(_, token)] = seed_buyers(1)
    body = problem(order(product_service, product["id"], token, quantity=3), 409)
    assert body["type"].endswith("out-of-stock") and body["available"] == 2
    assert stock_of(product_service, product["id"], token) == 2


def test_the_order_service_refusing_puts_the_stock_back(
    stack: ThrowawayStack, product_service: ShopClient, new_product,
) -> None:
    product = new_product(stock=4)
    # A valid token for an account the user service does not know: a definite refusal.
    ghost = user_token(stack, str(uuid.uuid4()))
    key = uuid.uuid4().hex
    refused = problem(order(product_service, product["id"], ghost, quantity=3, key=key), 409)
    assert refused["type"].endswith("order-rejected")
    assert stock_of(product_service, product["id"], ghost) == 4
    assert order(product_service, product["id"], ghost, quantity=3, key=key).json() == refused


@pytest.mark.parametrize(("quantity", "status"), [
    (0, 422), (-1, 422), (10**12, 422), (1001, 422), (1.5, 422), (2.0, 422), ("2", 422),
    (None, 422), (True, 422), ([1], 422),
])
def test_bad_quantities_are_4xx_problems_and_change_nothing(
    stack: ThrowawayStack, product_service: ShopClient, seed_buyers, new_product,
    quantity: Any, status: int,
) -> None:
    product = new_product(stock=5)
    [(_, token)] = seed_buyers(1)
    orders_before = scalar(stack, "order", "SELECT count(*) FROM orders")
    body = problem(order(product_service, product["id"], token, quantity=quantity), status)
    assert [e["field"] for e in body["errors"]] == ["quantity"]
    assert stock_of(product_service, product["id"], token) == 5
    assert scalar(stack, "order", "SELECT count(*) FROM orders") == orders_before
    assert scalar(stack, "product", "SELECT count(*) FROM reservations WHERE product_id = :p",
                  p=product["id"]) == 0


def test_other_bad_order_requests_are_4xx_problems_and_change_nothing(
    stack: ThrowawayStack, product_service: ShopClient, superadmin_token: str, seed_buyers,
    new_product,
) -> None:
    product = new_product(stock=5)
    [(_, token)] = seed_buyers(1)
    orders_before = scalar(stack, "order", "SELECT count(*) FROM orders")
    url = f"/products/{product['id']}/orders"
    key = {"Idempotency-Key": uuid.uuid4().hex}

    problem(product_service.call("POST", url, token=token, json={"quantity": 1}), 400)
    problem(product_service.call("POST", url, token=token, json={"quantity": 1},
                                 headers={"Idempotency-Key": "x" * 256}), 400)
    problem(product_service.call("POST", url, token=token, json={"quantity": 1},
                                 headers={"Idempotency-Key": "über"}), 400)
    unknown = problem(product_service.call("POST", url, token=token, headers=key,
                                           json={"quantity": 1, "price": "0.01"}), 422)
    assert [e["field"] for e in unknown["errors"]] == ["price"]
    problem(product_service.call("POST", url, token=token, headers=key, data=b"{oops"), 400)
    problem(product_service.call("POST", url, token=token, headers=key, json=[1]), 400)
    for missing in (str(uuid.uuid4()), "nope"):
        problem(product_service.call("POST", f"/products/{missing}/orders", token=token,
                                     headers=key, json={"quantity": 1}), 404)
    problem(product_service.call("POST", url, token=superadmin_token, headers=key,
                                 json={"quantity": 1}), 403)
    problem(product_service.call("POST", url, headers=key, json={"quantity": 1}), 401)

    assert stock_of(product_service, product["id"], token) == 5
    assert scalar(stack, "order", "SELECT count(*) FROM orders") == orders_before
    assert scalar(stack, "product", "SELECT count(*) FROM reservations WHERE product_id = :p",
                  p=product["id"]) == 0


def test_a_user_gets_404_for_each_of_another_users_orders(
    product_service: ShopClient, order_service: ShopClient, superadmin_token: str, seed_buyers,
    new_product,
) -> None:
    product = new_product(stock=10)
    (a_id, a_token), (_, b_token) = seed_buyers(2)
    placed = [order(product_service, product["id"], a_token).json() for _ in range(3)]
    assert all(o["user_id"] == a_id for o in placed)

    assert all_orders(order_service, b_token) == []
    for one in placed:
        problem(order_service.call("GET", f"/orders/{one['id']}", token=b_token), 404)
        mine = order_service.call("GET", f"/orders/{one['id']}", token=a_token)
        assert mine.status_code == 200 and mine.json() == one
        seen = order_service.call("GET", f"/orders/{one['id']}", token=superadmin_token)
        assert seen.status_code == 200
    assert {o["id"] for o in all_orders(order_service, a_token)} == {o["id"] for o in placed}
    everyone = {o["id"] for o in all_orders(order_service, superadmin_token)}
    assert {o["id"] for o in placed} <= everyone
    problem(order_service.call("GET", f"/orders/{uuid.uuid4()}", token=a_token), 404)
    problem(order_service.call("GET", "/orders/not-an-id", token=a_token), 404)
    problem(order_service.call("GET", "/orders"), 401)


def test_an_order_during_an_order_service_outage_is_503_and_the_stock_comes_back(
    stack: ThrowawayStack, order_service: ShopClient, seed_buyers, new_product, extra_process,
) -> None:
    # A product process of its own whose scheduled sweeper runs every second.
    sweeping = ShopClient.to(extra_process("product").url)
    product = new_product(stock=6)
    [(_, token)] = seed_buyers(1)
    key = uuid.uuid4().hex
    order_process = running(stack, "order")
    assert order_process is not None
    order_process.stop()
    try:
        unconfirmed = problem(order(sweeping, product["id"], token, 2, key), 503)
        assert unconfirmed["type"].endswith("order-unconfirmed")
        assert unconfirmed["instance"] == f"/products/{product['id']}/orders"
        # The outcome is unknown while the order service is away: the stock stays held.
        assert stock_of(sweeping, product["id"], token) == 4
    finally:
        stack.start("order")
    # The sweeper voids the key at the order service, which says no order exists: restock.
    wait_until(lambda: stock_of(sweeping, product["id"], token) == 6)
    expired = problem(order(sweeping, product["id"], token, 2, key), 409)
    assert expired["instance"] == f"/products/{product['id']}/orders"  # a stored outcome
    assert expired["type"].endswith("order-expired")
    assert stock_of(sweeping, product["id"], token) == 6
    assert order(sweeping, product["id"], token, 2).status_code == 201


def test_the_hold_lock_strategy_places_orders_too(
    stack: ThrowawayStack, order_service: ShopClient, seed_buyers, new_product, extra_process,
) -> None:
    holding = ShopClient.to(extra_process("product", SHOP_PRODUCT_ORDER_STRATEGY="hold-lock").url)
    product = new_product(stock=3)
    buyers = seed_buyers(6)

    def buy(buyer: tuple[str, str]) -> int:
        return order(holding, product["id"], buyer[1]).status_code

    with ThreadPoolExecutor(len(buyers)) as pool:
        statuses = list(pool.map(buy, buyers))
    assert statuses.count(201) == 3 and statuses.count(409) == 3
    assert stock_of(holding, product["id"], buyers[0][1]) == 0
    key = uuid.uuid4().hex
    more = new_product(stock=2)
    first = order(holding, more["id"], buyers[0][1], key=key)
    again = order(holding, more["id"], buyers[0][1], key=key)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert stock_of(holding, more["id"], buyers[0][1]) == 1
    assert Decimal(first.json()["total"]) == Decimal(more["price"])
