"""The product service's calls to the order service, both safe to repeat.

The reservation id is the order service's idempotency key, so a retried create can
never make a second order, and `void` settles a key for good: afterwards the order
either exists or can no longer be created.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shop_common.money import format_money
from shop_common.service_client import (
    ServiceClient,
    ServiceRejected,
    ServiceUnavailable,
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
    """A timeout, connection error or 5xx: the order may or may not exist."""

    reason: str


CreateResult = Created | Refused | Unanswered


class OrderServiceClient:
    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def create(self, order: NewOrder) -> CreateResult:
        """Ask for the order, retried with the same key; the answer as one value, never raised."""
        try:
            reply = self._client.post(TARGET, "/internal/orders", {
                "idempotency_key": order.key,
                "user_id": order.user_id,
                "product_id": order.product_id,
                "product_name": order.product_name,
                "quantity": order.quantity,
                "unit_price": format_money(order.unit_price),
            }, idempotent=True)
        except ServiceRejected as exc:
            return Refused(upstream_detail(exc.upstream_body) or f"status {exc.upstream_status}")
        except ServiceUnavailable as exc:
            return Unanswered(exc.detail)
        return Created(dict(reply.body))

    def void(self, key: str) -> dict[str, Any] | None:
        """The order made under this key, or None: then no order can ever be made with it.

        Raises ServiceCallFailed when the order service gave no answer to rely on.
        """
        reply = self._client.post(
            TARGET, "/internal/orders/void", {"idempotency_key": key}, idempotent=True
        )
        order = reply.body.get("order") if isinstance(reply.body, dict) else None
        return dict(order) if isinstance(order, dict) else None
