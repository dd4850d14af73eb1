"""The order service's internal endpoint: who may call it, one order per key, voided keys."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shop_common.keys import load_private_key, service_key_name
from shop_common.tokens import issue_service_token
from tests.integration.ordering.conftest import problem, scalar, user_token
from tests.support.client import ShopClient
from tests.support.stack import ThrowawayStack

pytestmark = pytest.mark.integration


def service_token(stack: ThrowawayStack, caller: str, audience: str = "order",
                  ttl: int = 60) -> str:
    key = load_private_key(stack.workdir / "keys", service_key_name(caller))
    return issue_service_token(key, caller=caller, audience=audience, ttl_seconds=ttl)


def draft(buyer_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "idempotency_key": str(uuid.uuid4()), "user_id": buyer_id,
        "product_id": str(uuid.uuid4()), "product_name": "Kettle", "quantity": 3,
        "unit_price": "2.50", **changes,
    }


@pytest.fixture
def as_product(stack: ThrowawayStack) -> str:
    return service_token(stack, "product")


def test_only_the_product_service_may_create_orders(
    stack: ThrowawayStack, order_service: ShopClient, seed_buyers,
) -> None:
    [(user_id, token)] = seed_buyers(1)
    body = draft(user_id)
    problem(order_service.call("POST", "/internal/orders", json=body), 401)
    problem(order_service.call("POST", "/internal/orders", token=token, json=body), 401)
    problem(order_service.call("POST", "/internal/orders", json=body,
                               token=user_token(stack, user_id, "superadmin")), 401)
    for caller in ("user", "communication"):
        problem(order_service.call("POST", "/internal/orders", json=body,
                                   token=service_token(stack, caller)), 403)
    problem(order_service.call("POST", "/internal/orders", json=body,
                               token=service_token(stack, "product", audience="user")), 401)
    problem(order_service.call("POST", "/internal/orders", json=body,
                               token=service_token(stack, "product", ttl=3600)), 401)
    # A service token is no user token either.
    problem(order_service.call("GET", "/orders", token=service_token(stack, "product")), 401)
    assert scalar(stack, "order", "SELECT count(*) FROM orders WHERE idempotency_key = :k",
                  k=body["idempotency_key"]) == 0


def test_a_key_makes_one_order_and_a_replay_gets_it_with_200(
    stack: ThrowawayStack, order_service: ShopClient, seed_buyers, as_product: str,
) -> None:
    [(user_id, _)] = seed_buyers(1)
    body = draft(user_id)
    first = order_service.call("POST", "/internal/orders", token=as_product, json=body)
    assert first.status_code == 201, first.text
    assert first.json()["total"] == "7.50" and first.json()["unit_price"] == "2.50"
    again = order_service.call("POST", "/internal/orders", token=as_product, json=body)
    assert again.status_code == 200 and again.json() == first.json()
    changed = order_service.call("POST", "/internal/orders", token=as_product,
                                 json={**body, "quantity": 4})
    assert [e["field"] for e in problem(changed, 422)["errors"]] == ["idempotency_key"]
    assert scalar(stack, "order", "SELECT count(*) FROM orders WHERE idempotency_key = :k",
                  k=body["idempotency_key"]) == 1
    assert scalar(stack, "order", "SELECT count(*) FROM outbox WHERE event_type = 'order.placed' "
                  "AND payload->'data'->>'order_id' = :id", id=first.json()["id"]) == 1


def test_a_voided_key_can_never_make_an_order_and_voiding_a_made_one_returns_it(
    stack: ThrowawayStack, order_service: ShopClient, seed_buyers, as_product: str,
) -> None:
    [(user_id, _)] = seed_buyers(1)
    body = draft(user_id)
    key = {"idempotency_key": body["idempotency_key"]}
    for _ in range(2):
        voided = order_service.call("POST", "/internal/orders/void", token=as_product, json=key)
        assert voided.status_code == 200 and voided.json() == {"order": None, "voided": True}
    late = order_service.call("POST", "/internal/orders", token=as_product, json=body)
    assert problem(late, 409)["type"].endswith("order-voided")
    problem(order_service.call("POST", "/internal/orders/void", token=as_product,
                               json={"idempotency_key": "k\u0000"}), 422)

    made = draft(user_id)
    created = order_service.call("POST", "/internal/orders", token=as_product, json=made).json()
    void = order_service.call("POST", "/internal/orders/void", token=as_product,
                              json={"idempotency_key": made["idempotency_key"]})
    assert void.json() == {"order": created, "voided": False}


@pytest.mark.parametrize(("changes", "fields"), [
    ({"unit_price": "2.505"}, {"unit_price"}),
    ({"unit_price": "0"}, {"unit_price"}),
    ({"quantity": 0}, {"quantity"}),
    ({"quantity": "3"}, {"quantity"}),
    ({"user_id": "someone"}, {"user_id"}),
    ({"idempotency_key": ""}, {"idempotency_key"}),
    ({"total": "0.01"}, {"total"}),
    # PostgreSQL refuses U+0000 in text: these were 500s at the INSERT or the lookup.
    ({"product_name": "Ket\u0000tle"}, {"product_name"}),
    ({"idempotency_key": "k\u0000"}, {"idempotency_key"}),
])
def test_bad_internal_bodies_are_422_naming_the_field(
    order_service: ShopClient, seed_buyers, as_product: str, changes, fields,
) -> None:
    [(user_id, _)] = seed_buyers(1)
    response = order_service.call("POST", "/internal/orders", token=as_product,
                                  json=draft(user_id, **changes))
    assert {e["field"] for e in problem(response, 422)["errors"]} == fields


def test_an_unknown_buyer_is_a_422_naming_user_id(
    order_service: ShopClient, as_product: str,
) -> None:
    response = order_service.call("POST", "/internal/orders", token=as_product,
                                  json=draft(str(uuid.uuid4())))
    assert [e["field"] for e in problem(response, 422)["errors"]] == ["user_id"]


def test_orders_are_listed_newest_first_a_page_at_a_time(
    order_service: ShopClient, seed_buyers, as_product: str,
) -> None:
    [(user_id, token)] = seed_buyers(1)
    made = [order_service.call("POST", "/internal/orders", token=as_product,
                               json=draft(user_id)).json()["id"] for _ in range(3)]
    first = order_service.call("GET", "/orders?limit=2", token=token).json()
    second = order_service.call("GET", f"/orders?limit=2&cursor={first['next_cursor']}",
                                token=token).json()
    assert [o["id"] for o in first["items"] + second["items"]] == made[::-1]
    assert second["next_cursor"] is None
    problem(order_service.call("GET", "/orders?limit=0", token=token), 422)
