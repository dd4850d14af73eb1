"""The pure parts of publishing: message properties, the breaker, connection parameters."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pika

from shop_common.breaker import CircuitBreaker
from shop_common.messaging import (
    EXCHANGE,
    PARKED_FROM_HEADER,
    PARKED_REASON_HEADER,
    MessageToPark,
    OutgoingEvent,
    connection_parameters,
)
from shop_common.outbox import event_message
from shop_common.outbox_relay import outgoing_event


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_can_publish_the_outbox_payload_as_is() -> None:
    class Row:
        id = uuid.uuid4()
        event_type = "user.signed_up"
        occurred_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        payload = event_message(id, event_type, occurred_at, {"email": "a@example.com"})

    event = outgoing_event(Row())  # type: ignore[arg-type]
    assert json.loads(event.body) == Row.payload
    assert event.event_id == str(Row.id) and event.event_type == "user.signed_up"


def test_can_mark_messages_persistent_json_and_identified() -> None:
    occurred = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    properties = OutgoingEvent("e-1", "order.placed", b"{}", occurred).properties("shop-order")
    assert properties.message_id == "e-1"
    assert properties.content_type == "application/json"
    assert properties.delivery_mode == 2
    assert properties.type == "order.placed" and properties.app_id == "shop-order"
    assert properties.timestamp == int(occurred.timestamp())
    assert EXCHANGE == "shop.events"


def test_can_fail_fast_for_a_while_after_a_failure() -> None:
    clock = Clock()
    breaker = CircuitBreaker(5.0, clock)
    assert breaker.allows()
    breaker.record_failure()
    assert not breaker.allows()
    clock.now += 4.9
    assert not breaker.allows()
    clock.now += 0.2
    assert breaker.allows()  # a trial call
    breaker.record_failure()
    assert not breaker.allows()
    breaker.record_success()
    assert breaker.allows()


def test_can_bound_connection_attempts_by_the_timeout() -> None:
    parameters = connection_parameters("amqp://u:p@127.0.0.1:5672/shop", timeout=1.5, heartbeat=0)
    assert parameters.virtual_host == "shop"
    assert parameters.connection_attempts == 1
    assert parameters.socket_timeout == 1.5 and parameters.stack_timeout == 1.5
    assert parameters.blocked_connection_timeout == 1.5
    assert parameters.heartbeat == 0


def test_a_parked_message_keeps_its_identity_and_carries_its_reason() -> None:
    delivered = pika.BasicProperties(message_id="m-1", type="order.placed", app_id="shop-order",
                                     content_type="application/json", headers={"x-trace": "t"},
                                     delivery_mode=1)
    parked = MessageToPark("communication.order_invoice", b"{}", delivered,
                           "data.order_id: Input should be a valid UUID").parked_properties()
    assert (parked.message_id, parked.type, parked.app_id, parked.content_type) == (
        "m-1", "order.placed", "shop-order", "application/json")
    assert parked.delivery_mode == 2
    assert parked.headers == {
        "x-trace": "t", PARKED_REASON_HEADER: "data.order_id: Input should be a valid UUID",
        PARKED_FROM_HEADER: "communication.order_invoice"}
