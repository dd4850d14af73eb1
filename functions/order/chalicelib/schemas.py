"""Request bodies of the internal endpoints and the public shape of an order, as pydantic models.

The same models validate requests, shape responses and make the OpenAPI document.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictInt

from chalicelib.models import Order
from shop_common.api_models import OrderOut, Price
from shop_common.idempotency import fingerprint as digest_of
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


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; "
                                                "null on the last page")


class VoidOut(BaseModel):
    order: OrderOut | None = Field(description="the order made under the key, if one was")
    voided: bool = Field(description="true when no order existed: the key can never "
                                     "make one now")


def order_view(order: Order) -> dict[str, Any]:
    return OrderOut.model_validate(order, from_attributes=True).model_dump(mode="json")
