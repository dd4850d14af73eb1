"""The event contract: `user.signed_up` and `order.placed`, as the producers build them
and the consumer parses them.

A message body is the envelope `{event_id, type, occurred_at, data}` (shop_common.outbox
writes it); `data` is one of the models below. The producers (the user and order
services) build `data` with `signed_up_data`/`order_placed_data`; the consumer (the
communication service) parses whole messages with `SignedUpEvent`/`OrderPlacedEvent`.

Parsing checks every field an email uses before anything is sent: ids are UUIDs,
addresses valid (and canonical, shop_common.email_address), text free of control
characters (a CR/LF in a name or id would forge lines of the text email), amounts
exact with two places, and an invoice's total is its quantity times its unit price. A
message that fails can never succeed, however often it is delivered.

Unknown fields are ignored, so a producer can add data without breaking this consumer;
missing or malformed ones make the message unparseable.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SkipValidation,
    StrictInt,
    model_validator,
)

from shop_common.email_address import CanonicalEmail
from shop_common.money import format_money, parse_money
from shop_common.text import check_text

USER_SIGNED_UP = "user.signed_up"
ORDER_PLACED = "order.placed"

# Amounts travel as text with two places ("9.90"), read back exactly.
Money = Annotated[Decimal, BeforeValidator(parse_money), Field(ge=0),
                  PlainSerializer(format_money, return_type=str)]
# ISO 8601 with the offset spelled out ("+00:00"), as datetime.isoformat writes it.
Moment = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str)]
Text = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_text)]


class EventData(BaseModel):
    """Base of the event models: frozen, unknown fields ignored, values kept out of errors."""

    # hide_input_in_errors: the reason a message is parked names fields, never their values.
    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)


class SignedUp(EventData):
    """The `data` of a `user.signed_up` event: the new account a welcome email goes to."""

    user_id: uuid.UUID
    email: CanonicalEmail
    name: Text
    # Sent by the producer and read by no email: never a reason to park a message.
    role: SkipValidation[str | None] = None


class OrderPlaced(EventData):
    """The `data` of an `order.placed` event: what the invoice email shows.

    Amounts are exact decimals (text with two places on the wire); parsing raises a
    pydantic ValidationError unless `total == unit_price * quantity` and `quantity > 0`.
    """

    order_id: uuid.UUID
    user_id: uuid.UUID
    email: CanonicalEmail
    name: Text
    product_id: uuid.UUID
    product_name: Text
    quantity: Annotated[StrictInt, Field(gt=0)]
    unit_price: Money
    total: Money
    placed_at: SkipValidation[Moment | None] = None  # as `role` above

    @model_validator(mode="after")
    def _total_is_quantity_times_unit_price(self) -> OrderPlaced:
        if self.total != self.unit_price * self.quantity:
            raise ValueError("total is not quantity times unit_price")
        return self


class SignedUpEvent(EventData):
    """A whole `user.signed_up` message: the envelope around `SignedUp` data."""

    event_id: uuid.UUID
    type: Literal["user.signed_up"]
    occurred_at: datetime
    data: SignedUp


class OrderPlacedEvent(EventData):
    """A whole `order.placed` message: the envelope around `OrderPlaced` data."""

    event_id: uuid.UUID
    type: Literal["order.placed"]
    occurred_at: datetime
    data: OrderPlaced


def signed_up_data(user_id: uuid.UUID, email: str, name: str, role: str) -> dict[str, Any]:
    """The `data` of a `user.signed_up` event, JSON-ready: ids and text as strings."""
    # Built unvalidated: the account is already valid; a bad field parks the email
    # downstream instead of failing the sign-up.
    return SignedUp.model_construct(
        user_id=user_id, email=email, name=name, role=role).model_dump(mode="json")


def order_placed_data(*, order_id: uuid.UUID, user_id: uuid.UUID, email: str, name: str,
                      product_id: uuid.UUID, product_name: str, quantity: int,
                      unit_price: Decimal, total: Decimal, placed_at: datetime
                      ) -> dict[str, Any]:
    """The `data` of an `order.placed` event, JSON-ready: everything an invoice needs,
    amounts as text with two places, `placed_at` in ISO 8601."""
    # Built unvalidated, like signed_up_data: the order is recorded whatever its email.
    return OrderPlaced.model_construct(
        order_id=order_id, user_id=user_id, email=email, name=name, product_id=product_id,
        product_name=product_name, quantity=quantity, unit_price=unit_price, total=total,
        placed_at=placed_at,
    ).model_dump(mode="json")
