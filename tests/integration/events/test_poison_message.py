"""A message no retry can fix goes to `<queue>.dlq` after the delivery limit; the rest flows."""

from __future__ import annotations

import time
import uuid

import pika
import pytest

from tests.integration.events.support import (
    MailSink,
    drain,
    event_body,
    event_ids,
    publish,
    ready_count,
    wait_until,
)
from tests.integration.events.test_order_invoice import order_placed_data
from tests.support.client import unique_email

pytestmark = pytest.mark.integration

QUEUE = "communication.order_invoice"


def publish_invoices(amqp_url: str, count: int) -> dict[str, str]:
    """`count` good order.placed events; returns event id → recipient."""
    sent = {}
    for _ in range(count):
        email = unique_email("flow")
        event_id, body = event_body("order.placed", order_placed_data(email))
        publish(amqp_url, "order.placed", body)
        sent[event_id] = email
    return sent


def test_can_dead_letter_a_poison_message_while_good_ones_flow(
    amqp_url: str, emulator: object, mail_sink: MailSink
) -> None:
    poison_id = f"poison-{uuid.uuid4()}"
    publish(amqp_url, "order.placed", b"{not json",
            pika.BasicProperties(message_id=poison_id, delivery_mode=2))
    behind = publish_invoices(amqp_url, 5)

    def dead_lettered() -> list[str]:
        if ready_count(amqp_url, f"{QUEUE}.dlq") == 0:
            return []
        return [str(p.message_id) for p, _ in drain(amqp_url, f"{QUEUE}.dlq")]

    assert poison_id in wait_until(dead_lettered, timeout=60, what="poison in the .dlq")
    later = publish_invoices(amqp_url, 5)

    def delivered() -> bool:
        return all(mail_sink.messages_to(email) for email in {**behind, **later}.values())

    wait_until(delivered, what="every good invoice")
    time.sleep(1.0)
    for event_id, email in {**behind, **later}.items():
        assert event_ids(mail_sink.messages_to(email)) == {event_id: 1}
    assert ready_count(amqp_url, QUEUE) == 0
