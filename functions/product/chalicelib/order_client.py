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
from shop_common.service_client import ServiceClient

TARGET = "order"


@dataclass(frozen=True)
class OrderDraft:
    reservation_id: str
    user_id: str
    product_id: str
    product_name: str
    quantity: int
    unit_price: Decimal


class OrderServiceClient:
    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def create(self, draft: OrderDraft) -> dict[str, Any]:
        """The order (201 created or 200 replayed); raises ServiceRejected/ServiceUnavailable."""
        reply = self._client.post(TARGET, "/internal/orders", {
            "idempotency_key": draft.reservation_id,
            "user_id": draft.user_id,
            "product_id": draft.product_id,
            "product_name": draft.product_name,
            "quantity": draft.quantity,
            "unit_price": format_money(draft.unit_price),
        }, idempotent=True)
        return dict(reply.body)

    def void(self, reservation_id: str) -> dict[str, Any] | None:
        """The order made under this key, or None: then no order can ever be made with it."""
        reply = self._client.post(
            TARGET, "/internal/orders/void", {"idempotency_key": reservation_id}, idempotent=True
        )
        order = reply.body.get("order") if isinstance(reply.body, dict) else None
        return dict(order) if isinstance(order, dict) else None
