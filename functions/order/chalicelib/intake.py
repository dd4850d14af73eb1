"""`POST /internal/orders`: one order per key, however often the product service asks.

The buyer is looked up before any lock is taken (it is an HTTP call), then the key's
lock is held only for the check-and-insert. A replay answers with the order already
made; a voided key is a definite refusal (409), so the product service may restock.
A new order's `order.placed` event is published as soon as the order is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from chalicelib.buyers import look_up_buyer
from chalicelib.models import OutboxEvent
from chalicelib.order_book import (
    create_order,
    find_by_key,
    is_voided,
    lock_key,
    order_voided,
    same_order,
)
from chalicelib.schemas import InternalOrderBody, order_view
from shop_common.db import transaction
from shop_common.errors import Problem, service_unavailable
from shop_common.outbox_relay import transaction_publishing
from shop_common.runtime import ServiceRuntime
from shop_common.service_client import ServiceClient


@dataclass(frozen=True)
class IntakeDeps:
    """What taking an order needs: the service's runtime (database, broker settings) and
    a client for the user service."""

    runtime: ServiceRuntime
    users: ServiceClient


@dataclass(frozen=True)
class TakenOrder:
    """The order the key stands for, as `order_view` shows it, and whether this request
    `created` it (201) or an earlier one with the same key did (200)."""

    order: dict[str, Any]
    created: bool


def _replay(session: Session, body: InternalOrderBody) -> TakenOrder | None:
    existing = find_by_key(session, body.idempotency_key)
    if existing is not None:
        return TakenOrder(order_view(same_order(existing, body)), created=False)
    if is_voided(session, body.idempotency_key):
        raise order_voided()
    return None


def take_order(deps: IntakeDeps, body: InternalOrderBody) -> TakenOrder:
    """The order for `body.idempotency_key`: made now (`created`) or made before.

    Raises 409 `order-voided` for a voided key, 422 for a reused key or an unknown
    buyer, 503 when the user service does not answer or another request holds the key.
    """
    with transaction(deps.runtime.sessions) as session:
        replay = _replay(session, body)
    if replay is not None:
        return replay
    buyer = look_up_buyer(deps.users, body.user_id)
    try:
        with transaction_publishing(deps.runtime, OutboxEvent) as session:
            lock_key(session, body.idempotency_key)
            replay = _replay(session, body)
            if replay is not None:
                return replay
            view = order_view(create_order(session, body, buyer))
    except Problem as problem:
        if problem.slug == "locked":
            # Another request holds this key: its outcome is unknown to us, so this must
            # not read as a definite refusal (a 409) to the product service.
            raise service_unavailable("this order is being placed by another request",
                                      slug="order-in-progress") from problem
        raise
    return TakenOrder(view, created=True)
