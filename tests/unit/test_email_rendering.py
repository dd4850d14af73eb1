"""The communication service's pure parts: reading the MQ event, rendering, the MIME message."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest

from tests.support.functions import function_module

schemas = function_module("communication", "schemas")
emails = function_module("communication", "emails")
messages = function_module("communication", "messages")
mailers = function_module("communication", "mailers")


def order_placed(**data: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()), "type": "order.placed",
        "occurred_at": "2026-11-24T12:00:00+00:00",
        "data": {"order_id": "o-1", "user_id": "u-1", "email": "ann@example.com",
                 "name": "Ann", "product_id": "p-1", "product_name": "Lamp", "quantity": 2,
                 "unit_price": "9.99", "total": "19.98", "extra": "ignored", **data},
    }


def mq_event(*bodies: bytes, message_id: str | None = None) -> dict[str, Any]:
    def message(body: bytes) -> dict[str, Any]:
        return {"basicProperties": {"messageId": message_id, "headers": None},
                "redelivered": False, "data": base64.b64encode(body).decode()}

    return {"eventSource": "aws:rmq", "eventSourceArn": "arn",
            "rmqMessagesByQueue": {"q::shop": [message(b) for b in bodies]}}


def test_can_read_good_and_bad_messages_of_one_batch() -> None:
    good = json.dumps(order_placed()).encode()
    wrong_type = json.dumps({**order_placed(), "type": "user.signed_up"}).encode()
    batch = messages.read_batch(
        mq_event(good, b"{not json", b"\xff\xfe", wrong_type, message_id="m-9"),
        schemas.OrderPlacedEvent,
    )
    assert [e.data.order_id for e in batch.events] == ["o-1"]
    assert [u.message_id for u in batch.unparseable] == ["m-9", "m-9", "m-9"]
    assert all(u.source == "q::shop" for u in batch.unparseable)


@pytest.mark.parametrize("field, value", [
    ("quantity", 0), ("unit_price", "9.999"), ("email", "not-an-address"), ("total", None),
])
def test_cannot_read_malformed_order_data(field: str, value: Any) -> None:
    body = json.dumps(order_placed(**{field: value})).encode()
    batch = messages.read_batch(mq_event(body), schemas.OrderPlacedEvent)
    assert not batch.events and len(batch.unparseable) == 1


def test_can_render_an_invoice_with_product_quantity_unit_price_and_total() -> None:
    event = schemas.OrderPlacedEvent.model_validate(order_placed(product_name="Lamp <XL>"))
    email = emails.invoice_email(event)
    assert email.kind == "invoice" and email.to == "ann@example.com"
    assert "o-1" in email.subject
    rows = [line.split() for line in email.text.splitlines()]
    assert ["Product", "Quantity", "Unit", "price", "Total"] in rows
    assert ["Lamp", "<XL>", "2", "9.99", "19.98"] in rows
    assert "Total: 19.98" in email.text
    assert "<td>Lamp &lt;XL&gt;</td><td>2</td><td>9.99</td><td>19.98</td>" in email.html


def test_can_render_a_welcome_email_escaping_html() -> None:
    event = schemas.SignedUpEvent.model_validate({
        "event_id": str(uuid.uuid4()), "type": "user.signed_up",
        "occurred_at": "2026-11-24T12:00:00Z",
        "data": {"user_id": "u", "email": "bob@example.com", "name": "<b>Bob</b>"},
    })
    email = emails.welcome_email(event)
    assert email.kind == "signup" and email.to == "bob@example.com"
    assert "Hello <b>Bob</b>" in email.text
    assert "&lt;b&gt;Bob&lt;/b&gt;" in email.html and "<b>Bob</b>" not in email.html


def test_can_build_a_text_and_html_message_identified_by_the_event() -> None:
    event = schemas.OrderPlacedEvent.model_validate(order_placed())
    message = emails.mime_message(emails.invoice_email(event), "Shop <shop@example.com>")
    assert message["From"] == "Shop <shop@example.com>" and message["To"] == "ann@example.com"
    assert message["Message-ID"] == f"<{event.event_id}.invoice@example.com>"
    assert message["X-Shop-Event-Id"] == str(event.event_id)
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None


def test_can_choose_the_mail_backend_from_settings() -> None:
    from shop_common.config import validate_settings

    base = {"database_url": "postgresql+pg8000://u:p@127.0.0.1:5432/d"}
    smtp = mailers.create_mailer(validate_settings("communication", base))
    assert type(smtp).__name__ == "SmtpMailer"
    ses = mailers.create_mailer(validate_settings("communication",
                                                  {**base, "mail_backend": "ses"}))
    assert type(ses).__name__ == "SesMailer"


def test_can_send_raw_mime_through_ses() -> None:
    class FakeSes:
        def __init__(self) -> None:
            self.calls: list[dict[str, Any]] = []

        def send_email(self, **kwargs: Any) -> None:
            self.calls.append(kwargs)

    client = FakeSes()
    event = schemas.OrderPlacedEvent.model_validate(order_placed())
    message = emails.mime_message(emails.invoice_email(event), "shop@example.com")
    mailers.SesMailer(client).send(message)
    [call] = client.calls
    assert call["FromEmailAddress"] == "shop@example.com"
    assert call["Destination"] == {"ToAddresses": ["ann@example.com"]}
    assert call["Content"]["Raw"]["Data"] == message.as_bytes()


def test_can_set_aside_json_nested_too_deep_and_still_read_the_rest() -> None:
    good = json.dumps(order_placed()).encode()
    batch = messages.read_batch(mq_event(b"[" * 100_000 + b"]" * 100_000, good),
                                schemas.OrderPlacedEvent)
    assert [e.data.order_id for e in batch.events] == ["o-1"]
    assert len(batch.unparseable) == 1 and "RecursionError" in batch.unparseable[0].reason
