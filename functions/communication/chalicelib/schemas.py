"""The events this service reads: envelope fields, then each event's data.

Every field an email uses is checked before anything is sent: ids are UUIDs, addresses
valid (and canonical, shop_common.email_address), text free of control characters (a
CR/LF in a name or id would forge lines of the text email), amounts exact with two
places, and an invoice's total is its quantity times its unit price. A message that
fails can never succeed, however often it is delivered.

Unknown fields are ignored, so a producer can add data without breaking this consumer;
missing or malformed ones make the message unparseable.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    model_validator,
)

from shop_common.email_address import CanonicalEmail
from shop_common.money import parse_money
from shop_common.text import check_text

Money = Annotated[Decimal, BeforeValidator(parse_money), Field(ge=0)]
Text = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_text)]


class EventData(BaseModel):
    # hide_input_in_errors: the reason a message is parked names fields, never their values.
    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)


class SignedUp(EventData):
    user_id: uuid.UUID
    email: CanonicalEmail
    name: Text


class OrderPlaced(EventData):
    order_id: uuid.UUID
    user_id: uuid.UUID
    email: CanonicalEmail
    name: Text
    product_id: uuid.UUID
    product_name: Text
    quantity: Annotated[StrictInt, Field(gt=0)]
    unit_price: Money
    total: Money

    @model_validator(mode="after")
    def _total_is_quantity_times_unit_price(self) -> OrderPlaced:
        if self.total != self.unit_price * self.quantity:
            raise ValueError("total is not quantity times unit_price")
        return self


class SignedUpEvent(EventData):
    event_id: uuid.UUID
    type: Literal["user.signed_up"]
    occurred_at: datetime
    data: SignedUp


class OrderPlacedEvent(EventData):
    event_id: uuid.UUID
    type: Literal["order.placed"]
    occurred_at: datetime
    data: OrderPlaced
