"""Communication functions: no routes, only functions triggered by Amazon MQ event-source mappings.

Each takes the Amazon MQ for RabbitMQ Lambda event (locally: from the MQ emulator)
and sends one email per event. The mappings are in infra/event-source-mappings.json.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice

from chalicelib import SERVICE
from chalicelib.delivery import deliver_batch
from chalicelib.deps import delivery_deps
from chalicelib.emails import INVOICE, SIGNUP, invoice_email, welcome_email
from shop_common.events import OrderPlacedEvent, SignedUpEvent
from shop_common.metrics import observed

app = Chalice(app_name="shop-communication")


@app.lambda_function(name="signup_email")
@observed(SERVICE, "signup_email")
def signup_email(event: dict[str, Any], context: Any) -> dict[str, int]:
    """`user.signed_up` → a welcome email (queue communication.signup_email)."""
    return deliver_batch(delivery_deps(), event, SignedUpEvent, SIGNUP, welcome_email)


@app.lambda_function(name="order_invoice")
@observed(SERVICE, "order_invoice")
def order_invoice(event: dict[str, Any], context: Any) -> dict[str, int]:
    """`order.placed` → an invoice email (queue communication.order_invoice)."""
    return deliver_batch(delivery_deps(), event, OrderPlacedEvent, INVOICE, invoice_email)
