"""The communication service's pure parts: reading the MQ event, rendering, the MIME message."""

from __future__ import annotations

import base64
import json
import smtplib
import uuid
from typing import Any

import pytest

from shop_common import events
from tests.support.functions import function_module

emails = function_module("communication", "emails")
messages = function_module("communication", "messages")
mailers = function_module("communication", "mailers")


ORDER_ID = "0b6e8a7c-5d4f-4e3a-9b2c-1d0e9f8a7b6c"


def order_placed(**data: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()), "type": "order.placed",
        "occurred_at": "2026-11-24T12:00:00+00:00",
        "data": {"order_id": ORDER_ID, "user_id": str(uuid.uuid4()), "email": "ann@example.com",
                 "name": "Ann", "product_id": str(uuid.uuid4()), "product_name": "Lamp",
                 "quantity": 2, "unit_price": "9.99", "total": "19.98",
                 "extra": "ignored\r\n", **data},
    }


def mq_event(*bodies: bytes, message_id: str | None = None,
             headers: dict[str, Any] | None = None) -> dict[str, Any]:
    def message(body: bytes) -> dict[str, Any]:
        return {"basicProperties": {"messageId": message_id, "headers": headers,
                                    "type": "order.placed", "contentType": "application/json"},
                "redelivered": False, "data": base64.b64encode(body).decode()}

    return {"eventSource": "aws:rmq", "eventSourceArn": "arn",
            "rmqMessagesByQueue": {"q::shop": [message(b) for b in bodies]}}


def test_can_read_good_and_bad_messages_of_one_batch() -> None:
    good = json.dumps(order_placed()).encode()
    wrong_type = json.dumps({**order_placed(), "type": "user.signed_up"}).encode()
    batch = messages.read_batch(
        mq_event(good, b"{not json", b"\xff\xfe", wrong_type, message_id="m-9"),
        events.OrderPlacedEvent,
    )
    assert [str(e.event.data.order_id) for e in batch.events] == [ORDER_ID]
    assert [u.message.message_id for u in batch.unparseable] == ["m-9", "m-9", "m-9"]
    assert all(u.message.queue == "q" for u in batch.unparseable)
    assert batch.unparseable[0].message.body == b"{not json"


@pytest.mark.parametrize(("field", "value", "named"), [
    # The poison message: an order id holding CR/LF.
    ("order_id", "o-1\r\nBcc: victim@example.com", "data.order_id"),
    ("order_id", "o-1", "data.order_id"), ("user_id", "u-1", "data.user_id"),
    ("product_id", "42", "data.product_id"), ("name", "Ann\r\nBcc: x@example.com", "data.name"),
    ("product_name", "Lamp\u2028XL", "data.product_name"), ("quantity", 0, "data.quantity"),
    ("quantity", "2", "data.quantity"), ("unit_price", "9.999", "data.unit_price"),
    ("unit_price", "٩.٩٩", "data.unit_price"), ("email", "not-an-address", "data.email"),
    ("email", "ann@example.com\r\nBcc: x@example.com", "data.email"),
    ("total", None, "data.total"), ("total", "19.99", "data"),
])
def test_cannot_read_order_data_that_can_never_make_an_invoice(
    field: str, value: Any, named: str,
) -> None:
    body = json.dumps(order_placed(**{field: value})).encode()
    batch = messages.read_batch(mq_event(body), events.OrderPlacedEvent)
    assert not batch.events and len(batch.unparseable) == 1
    reason = batch.unparseable[0].reason
    assert reason.startswith(f"{named}: "), reason
    assert str(value) not in reason or value in (0, None)  # names the field, not its value


def test_an_amount_is_read_exactly_from_a_json_number() -> None:
    body = json.dumps(order_placed(unit_price="U", total="T")).replace(
        '"U"', "9.999999999999999999").replace('"T"', "19.98").encode()
    batch = messages.read_batch(mq_event(body), events.OrderPlacedEvent)
    assert [u.reason.split(":")[0] for u in batch.unparseable] == ["data.unit_price"]
    exact = json.dumps(order_placed(unit_price="U")).replace('"U"', "9.99").encode()
    [parsed] = messages.read_batch(mq_event(exact), events.OrderPlacedEvent).events
    assert str(parsed.event.data.unit_price) == "9.99"


def test_an_address_is_read_in_its_canonical_form() -> None:
    body = json.dumps(order_placed(email="\uff21nn@B\u00fccher.Example")).encode()
    [parsed] = messages.read_batch(mq_event(body), events.OrderPlacedEvent).events
    assert parsed.event.data.email == "ann@xn--bcher-kva.example"


def test_a_message_keeps_its_properties_and_string_headers_for_parking() -> None:
    trace = {"bytes": list(b"abc-\xc3\xa9")}  # as AWS renders a string header
    batch = messages.read_batch(mq_event(b"{", message_id="m-1", headers={
        "x-trace": trace, "x-count": 3}), events.OrderPlacedEvent)
    properties = batch.unparseable[0].message.properties
    assert properties.message_id == "m-1" and properties.type == "order.placed"
    assert properties.content_type == "application/json"
    assert properties.headers == {"x-trace": "abc-é", "x-count": 3}


def test_data_that_is_not_base64_is_unparseable() -> None:
    event = mq_event(b"{}")
    event["rmqMessagesByQueue"]["q::shop"][0]["data"] = "not base64!"
    batch = messages.read_batch(event, events.OrderPlacedEvent)
    assert [u.reason for u in batch.unparseable] == ["the data is not base64"]


def test_can_render_an_invoice_with_product_quantity_unit_price_and_total() -> None:
    event = events.OrderPlacedEvent.model_validate(order_placed(product_name="Lamp <XL>"))
    email = emails.invoice_email(event)
    assert email.kind == "invoice" and email.to == "ann@example.com"
    assert ORDER_ID in email.subject
    rows = [line.split() for line in email.text.splitlines()]
    assert ["Product", "Quantity", "Unit", "price", "Total"] in rows
    assert ["Lamp", "<XL>", "2", "9.99", "19.98"] in rows
    assert "Total: 19.98" in email.text
    assert "<td>Lamp &lt;XL&gt;</td><td>2</td><td>9.99</td><td>19.98</td>" in email.html


def test_can_render_a_welcome_email_escaping_html() -> None:
    event = events.SignedUpEvent.model_validate({
        "event_id": str(uuid.uuid4()), "type": "user.signed_up",
        "occurred_at": "2026-11-24T12:00:00Z",
        "data": {"user_id": str(uuid.uuid4()), "email": "bob@example.com",
                 "name": "<b>Bob</b>"},
    })
    email = emails.welcome_email(event)
    assert email.kind == "signup" and email.to == "bob@example.com"
    assert "Hello <b>Bob</b>" in email.text
    assert "&lt;b&gt;Bob&lt;/b&gt;" in email.html and "<b>Bob</b>" not in email.html


def test_can_build_a_text_and_html_message_identified_by_the_event() -> None:
    event = events.OrderPlacedEvent.model_validate(order_placed())
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
    event = events.OrderPlacedEvent.model_validate(order_placed())
    message = emails.mime_message(emails.invoice_email(event), "shop@example.com")
    mailers.SesMailer(client).send(message)
    [call] = client.calls
    assert call["FromEmailAddress"] == "shop@example.com"
    assert call["Destination"] == {"ToAddresses": ["ann@example.com"]}
    assert call["Content"]["Raw"]["Data"] == message.as_bytes()


def test_can_set_aside_json_nested_too_deep_and_still_read_the_rest() -> None:
    good = json.dumps(order_placed()).encode()
    batch = messages.read_batch(mq_event(b"[" * 100_000 + b"]" * 100_000, good),
                                events.OrderPlacedEvent)
    assert [str(e.event.data.order_id) for e in batch.events] == [ORDER_ID]
    assert len(batch.unparseable) == 1 and "RecursionError" in batch.unparseable[0].reason


@pytest.mark.parametrize(("error", "code"), [
    (smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"no such user")}), 550),
    (smtplib.SMTPRecipientsRefused({"a@example.com": (450, b"busy"),
                                    "b@example.com": (550, b"no")}), 450),
    (smtplib.SMTPDataError(554, b"rejected"), 554),
    (smtplib.SMTPSenderRefused(451, b"later", "shop@example.com"), 451),
    (smtplib.SMTPServerDisconnected("gone"), None),
])
def test_only_a_5xx_refusal_is_permanent(error: smtplib.SMTPException, code: int | None) -> None:
    assert mailers.smtp_refusal(error) == code
