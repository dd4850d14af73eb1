"""The emails, rendered as text and HTML, and the MIME message that carries them.

Every value that came from a user (names, product names) is HTML-escaped in the HTML
part; the text part needs no escaping. The Message-ID is derived from the event, so a
resend of the same event (should one ever slip through) is recognisable downstream.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from html import escape

from shop_common.events import OrderPlacedEvent, SignedUpEvent
from shop_common.money import format_money

SIGNUP = "signup"
INVOICE = "invoice"


@dataclass(frozen=True)
class Email:
    kind: str
    event_id: uuid.UUID
    to: str
    subject: str
    text: str
    html: str


def html_page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title></head>\n"
        f"<body style=\"font-family: sans-serif\">\n{body}\n</body></html>\n"
    )


def welcome_email(event: SignedUpEvent) -> Email:
    data = event.data
    subject = "Welcome to Serverless Shop"
    text = (
        f"Hello {data.name},\n\n"
        "welcome to Serverless Shop: your account is ready.\n"
        f"You sign in with {data.email}.\n\n"
        "Happy shopping!\n"
    )
    html = html_page(subject, (
        f"<p>Hello {escape(data.name)},</p>\n"
        "<p>welcome to Serverless Shop: your account is ready.<br>\n"
        f"You sign in with <strong>{escape(str(data.email))}</strong>.</p>\n"
        "<p>Happy shopping!</p>"
    ))
    return Email(SIGNUP, event.event_id, str(data.email), subject, text, html)


def invoice_email(event: OrderPlacedEvent) -> Email:
    data = event.data
    unit_price, total = format_money(data.unit_price), format_money(data.total)
    subject = f"Your invoice for order {data.order_id}"
    headings = ("Product", "Quantity", "Unit price", "Total")
    row = (data.product_name, str(data.quantity), unit_price, total)
    widths = [max(len(h), len(v)) for h, v in zip(headings, row, strict=True)]
    line = "  ".join(f"{{:<{widths[0]}}}" if i == 0 else f"{{:>{w}}}"
                     for i, w in enumerate(widths))
    text = (
        f"Hello {data.name},\n\n"
        f"thank you for your order {data.order_id}. Your invoice:\n\n"
        f"{line.format(*headings)}\n{line.format(*('-' * w for w in widths))}\n"
        f"{line.format(*row)}\n\n"
        f"Total: {total}\n"
    )
    cells = "".join(f"<td>{escape(value)}</td>" for value in row)
    html = html_page(subject, (
        f"<p>Hello {escape(data.name)},</p>\n"
        f"<p>thank you for your order {escape(str(data.order_id))}. Your invoice:</p>\n"
        "<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\">\n"
        "<tr>" + "".join(f"<th>{h}</th>" for h in headings) + "</tr>\n"
        f"<tr>{cells}</tr>\n</table>\n"
        f"<p><strong>Total: {escape(total)}</strong></p>"
    ))
    return Email(INVOICE, event.event_id, str(data.email), subject, text, html)


def mime_message(email: Email, sender: str) -> EmailMessage:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "shop.local"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{email.event_id}.{email.kind}@{domain}>"
    message["X-Shop-Event-Id"] = str(email.event_id)
    message["X-Shop-Email-Kind"] = email.kind
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message
