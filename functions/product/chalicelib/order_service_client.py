"""The product service's calls to the order service, both safe to repeat.

The reservation id is the order service's idempotency key, so a retried create can
never make a second order, and `void` settles a key for good: afterwards the order
either exists or can no longer be created. Each call returns its answer as one value
(`CreateResult`, `VoidResult`) and never raises for what the order service said.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shop_common.money import format_money
from shop_common.service_client import (
    NoAnswer,
    Refusal,
    ServiceClient,
    ServiceReply,
    upstream_detail,
)

TARGET = "order"


@dataclass(frozen=True)
class NewOrder:
    """What the order service records for reserved stock; `key` is the reservation id."""

    key: str
    user_id: str
    product_id: str
    product_name: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class Created:
    """The order exists (made now, or by an earlier call with the same key)."""

    order: dict[str, Any]


@dataclass(frozen=True)
class Refused:
    """A definite 4xx: the order service did not and will not make this order."""

    reason: str


@dataclass(frozen=True)
class Unanswered:
    """No answer to rely on: the order may or may not exist.

    A timeout, connection error or 5xx; for a void, also a refusal, since the key is
    then not settled either. `reason` is the sentence a 503 problem would give.
    """

    reason: str


@dataclass(frozen=True)
class Voided:
    """The key is settled for good: `order` is the order made under it, or None when
    none was made and none can be made now."""

    order: dict[str, Any] | None


CreateResult = Created | Refused | Unanswered
VoidResult = Voided | Unanswered


MALFORMED = "the order service answered the {what} call with a body that is not its answer"


def order_in(body: Any) -> dict[str, Any] | None:
    """`body` as an order when it is one (a JSON object whose `id` is a UUID), else None."""
    if not isinstance(body, dict):
        return None
    try:
        uuid.UUID(str(body.get("id")))
    except ValueError:
        return None
    return dict(body)


class OrderServiceClient:
    """The order service's internal routes, as the product service calls them."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def create(self, order: NewOrder) -> CreateResult:
        """Ask for the order, retried with the same key; the answer as one value, never raised.

        Created (2xx, with the order as the order service shows it), Refused (a
        definite 4xx, with the order service's reason) or Unanswered.
        """
        result = self._client.send(TARGET, "POST", "/internal/orders", json={
            "idempotency_key": order.key,
            "user_id": order.user_id,
            "product_id": order.product_id,
            "product_name": order.product_name,
            "quantity": order.quantity,
            "unit_price": format_money(order.unit_price),
        }, idempotent=True)
        match result:
            case ServiceReply(body=body):
                made = order_in(body)
                if made is None:  # a 2xx we cannot read: as if no answer came
                    return Unanswered(MALFORMED.format(what="create"))
                return Created(made)
            case Refusal(status=status, body=body):
                return Refused(upstream_detail(body) or f"status {status}")
            case NoAnswer() as no_answer:
                return Unanswered(no_answer.detail)

    def void(self, key: str) -> VoidResult:
        """Settle the key for good, retried; the answer as one value, never raised.

        Voided with the order made under this key, or with None: then no order can
        ever be made with it. Unanswered when the order service gave no answer to rely
        on (a refusal included: the key is then not settled).
        """
        result = self._client.send(
            TARGET, "POST", "/internal/orders/void", json={"idempotency_key": key},
            idempotent=True,
        )
        match result:
            case ServiceReply(body=body):
                # Stock goes back only on a plain "no order was made, none can be now": a
                # body that says neither is no answer, never a reason to restock.
                if not isinstance(body, dict):
                    return Unanswered(MALFORMED.format(what="void"))
                order = order_in(body.get("order"))
                if order is not None:
                    return Voided(order)
                if body.get("order") is None and body.get("voided") is True:
                    return Voided(None)
                return Unanswered(MALFORMED.format(what="void"))
            case Refusal() | NoAnswer() as failure:
                return Unanswered(failure.detail)
