"""The events this service reads (DESIGN.md §3): envelope fields, then each event's data.

Unknown fields are ignored, so a producer can add data without breaking this consumer;
missing or malformed ones make the message unparseable.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field

from shop_common.money import parse_money

Money = Annotated[Decimal, BeforeValidator(parse_money), Field(ge=0)]
Text = Annotated[str, Field(min_length=1, max_length=200)]


class EventData(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SignedUp(EventData):
    user_id: str
    email: EmailStr
    name: Text


class OrderPlaced(EventData):
    order_id: str
    user_id: str
    email: EmailStr
    name: Text
    product_id: str
    product_name: Text
    quantity: int = Field(gt=0)
    unit_price: Money
    total: Money


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
