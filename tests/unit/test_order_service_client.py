"""The product service's order client: each answer of the order service as one value.

No network: a stand-in for `ServiceClient.send` returns the scripted result.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shop_common.service_client import CallResult, NoAnswer, Refusal, ServiceReply
from tests.support.functions import function_module

orders = function_module("product", "order_service_client")

ORDER = {"id": "6f1c8a52-3f7e-4c39-9a57-0d7e8f0c2b11", "status": "placed"}


class Sends:
    """Answers every `send` with `result` and remembers what was sent."""

    def __init__(self, result: CallResult) -> None:
        self.result = result
        self.sent: list[dict[str, Any]] = []

    def send(self, service: str, method: str, path: str, **kwargs: Any) -> CallResult:
        self.sent.append({"service": service, "method": method, "path": path, **kwargs})
        return self.result


def create(result: CallResult) -> tuple[Any, Sends]:
    sends = Sends(result)
    new = orders.NewOrder(key="r-1", user_id="u-1", product_id="p-1", product_name="Lamp",
                          quantity=2, unit_price=Decimal("9.5"))
    return orders.OrderServiceClient(sends).create(new), sends


def test_create_sends_the_order_under_its_key_as_a_call_safe_to_repeat() -> None:
    result, sends = create(ServiceReply(201, ORDER))
    assert result == orders.Created(ORDER)
    [sent] = sends.sent
    assert (sent["service"], sent["method"], sent["path"]) == ("order", "POST", "/internal/orders")
    assert sent["idempotent"] is True
    assert sent["json"] == {"idempotency_key": "r-1", "user_id": "u-1", "product_id": "p-1",
                            "product_name": "Lamp", "quantity": 2, "unit_price": "9.50"}


@pytest.mark.parametrize(("body", "reason"), [
    ({"type": "about:blank", "title": "Conflict", "detail": "the key was voided"},
     "the key was voided"),
    (None, "status 409"),
])
def test_create_gives_a_refusal_with_the_order_services_reason(body: Any, reason: str) -> None:
    result, _ = create(Refusal("order", 409, body))
    assert result == orders.Refused(reason)


def test_create_gives_no_answer_as_unanswered() -> None:
    result, _ = create(NoAnswer("order", "timed out"))
    assert result == orders.Unanswered("the order service is unavailable: timed out")


def void(result: CallResult) -> tuple[Any, Sends]:
    sends = Sends(result)
    return orders.OrderServiceClient(sends).void("r-1"), sends


def test_void_gives_the_order_made_under_the_key() -> None:
    result, sends = void(ServiceReply(200, {"order": ORDER, "voided": False}))
    assert result == orders.Voided(ORDER)
    [sent] = sends.sent
    assert sent["path"] == "/internal/orders/void" and sent["json"] == {"idempotency_key": "r-1"}
    assert sent["idempotent"] is True


def test_void_gives_none_when_no_order_can_be_made_any_more() -> None:
    result, _ = void(ServiceReply(200, {"order": None, "voided": True}))
    assert result == orders.Voided(None)


@pytest.mark.parametrize(("answer", "reason"), [
    (NoAnswer("order", "answered 503", 503), "the order service is unavailable: answered 503"),
    (Refusal("order", 403, None), "the order service refused the request (403)"),
])
def test_a_void_without_a_settling_answer_is_unanswered(answer: CallResult, reason: str) -> None:
    result, _ = void(answer)
    assert result == orders.Unanswered(reason)


@pytest.mark.parametrize("body", [None, "created", [ORDER], {}, {"id": "not-a-uuid"},
                                  {"status": "placed"}])
def test_a_2xx_create_without_an_order_in_its_body_is_unanswered(body: Any) -> None:
    # The order may exist: the reservation stays pending for the sweeper, never a 500.
    result, _ = create(ServiceReply(201, body))
    assert isinstance(result, orders.Unanswered)
    assert "not its answer" in result.reason


@pytest.mark.parametrize("body", [None, "voided", {}, {"voided": True, "order": "x"},
                                  {"voided": False, "order": None}, {"order": None},
                                  {"voided": "yes", "order": None}, {"order": {"id": 7}}])
def test_a_2xx_void_that_neither_names_an_order_nor_says_voided_restocks_nothing(
        body: Any) -> None:
    # Only a plain "voided, no order" puts stock back; anything else waits for the next run.
    result, _ = void(ServiceReply(200, body))
    assert isinstance(result, orders.Unanswered)
