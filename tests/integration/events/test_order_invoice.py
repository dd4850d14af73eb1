"""`order.placed` becomes exactly one invoice listing product, quantity, unit price and total.

The first test publishes the event itself, in the exact shape the order service's
outbox writes, so it needs no order service. The second places a real order through
the product and order services; it runs once the order service publishes its outbox
(see `order_wiring`).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from tests.integration.events.ordering import OrderingStack
from tests.integration.events.support import (
    MailSink,
    event_body,
    event_ids,
    publish,
    text_of,
    wait_until,
)
from tests.support.client import unique_email

pytestmark = pytest.mark.integration

QUIET_SECONDS = 1.5


def order_placed_data(email: str, **overrides: Any) -> dict[str, Any]:
    return {
        "order_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()), "email": email,
        "name": "Grace", "product_id": str(uuid.uuid4()), "product_name": "Blue <Widget>",
        "quantity": 3, "unit_price": "9.99", "total": "29.97",
        "placed_at": "2026-11-24T12:00:00+00:00", **overrides,
    }


def test_can_send_one_invoice_per_order_placed_event(
    amqp_url: str, emulator: object, mail_sink: MailSink
) -> None:
    email = unique_email("invoice")
    data = order_placed_data(email)
    event_id, body = event_body("order.placed", data)
    # The same event twice, as when the relay re-publishes a row whose confirm was lost.
    publish(amqp_url, "order.placed", body)
    publish(amqp_url, "order.placed", body)

    [invoice] = wait_until(lambda: mail_sink.messages_to(email), what="invoice")
    assert invoice["X-Shop-Event-Id"] == event_id
    assert data["order_id"] in str(invoice["Subject"])
    text = text_of(invoice)
    lines = [line.split() for line in text.splitlines()]
    assert ["Product", "Quantity", "Unit", "price", "Total"] in lines
    assert ["Blue", "<Widget>", "3", "9.99", "29.97"] in lines
    assert "Total: 29.97" in text
    html = text_of(invoice, "html")
    assert "Blue &lt;Widget&gt;" in html and "<td>9.99</td>" in html and "29.97" in html

    time.sleep(QUIET_SECONDS)
    assert event_ids(mail_sink.messages_to(email)) == {event_id: 1}


def test_can_send_one_invoice_per_placed_order(
    ordering: OrderingStack, emulator: object, mail_sink: MailSink
) -> None:
    buyer = ordering.new_buyer()
    product = ordering.new_product(price="12.50", stock=5)
    order = ordering.place_order(buyer, product["id"], quantity=2)
    assert order["total"] == "25.00"

    [invoice] = wait_until(lambda: mail_sink.messages_to(buyer.email), what="invoice")
    text = text_of(invoice)
    assert order["id"] in str(invoice["Subject"])
    assert [product["name"], "2", "12.50", "25.00"] in [line.split() for line in text.splitlines()]
    assert "Total: 25.00" in text

    time.sleep(QUIET_SECONDS)
    assert len(mail_sink.messages_to(buyer.email)) == 1
