"""Request bodies of the internal endpoints and the public shape of an order."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import Field, StrictInt

from chalicelib.models import Order
from shop_common.idempotency import fingerprint as digest_of
from shop_common.money import Price, format_money
from shop_common.validation import StrictBody

Key = Annotated[str, Field(min_length=1, max_length=255)]


class InternalOrderBody(StrictBody):
    """What the product service sends once it has reserved the stock."""

    idempotency_key: Key
    user_id: uuid.UUID
    product_id: uuid.UUID
    product_name: Annotated[str, Field(min_length=1, max_length=200)]
    quantity: Annotated[StrictInt, Field(ge=1, le=1000)]
    unit_price: Price

    def fingerprint(self) -> str:
        """Everything but the key: a replay must carry the same order."""
        return digest_of(self.model_dump(mode="json", exclude={"idempotency_key"}))


class VoidBody(StrictBody):
    idempotency_key: Key


def order_view(order: Order) -> dict[str, Any]:
    return {
        "id": str(order.id),
        "user_id": str(order.user_id),
        "product_id": str(order.product_id),
        "product_name": order.product_name,
        "quantity": order.quantity,
        "unit_price": format_money(order.unit_price),
        "total": format_money(order.total),
        "status": order.status,
        "created_at": order.created_at.isoformat(),
    }
