"""`POST /internal/orders`: one order per key, however often the product service asks.

The buyer is looked up before any lock is taken (it is an HTTP call), then the key's
lock is held only for the check-and-insert. A replay answers with the order already
made; a voided key is a definite refusal (409), so the product service may restock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from chalicelib.buyers import look_up_buyer
from chalicelib.orders import (
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
from shop_common.service_client import ServiceClient


@dataclass(frozen=True)
class Intake:
    order: dict[str, Any]
    created: bool
    # The `order.placed` outbox row written with the order; None for a replay.
    event_id: uuid.UUID | None = None


def _replay(session: Session, body: InternalOrderBody) -> Intake | None:
    existing = find_by_key(session, body.idempotency_key)
    if existing is not None:
        return Intake(order_view(same_order(existing, body)), created=False)
    if is_voided(session, body.idempotency_key):
        raise order_voided()
    return None


def take_order(sessions: sessionmaker[Session], users: ServiceClient,
               body: InternalOrderBody) -> Intake:
    with transaction(sessions) as session:
        replay = _replay(session, body)
    if replay is not None:
        return replay
    buyer = look_up_buyer(users, body.user_id)
    try:
        with transaction(sessions) as session:
            lock_key(session, body.idempotency_key)
            replay = _replay(session, body)
            if replay is not None:
                return replay
            created = create_order(session, body, buyer)
            view = order_view(created.order)
    except Problem as problem:
        if problem.slug == "locked":
            # Another request holds this key: its outcome is unknown to us, so this must
            # not read as a definite refusal (a 409) to the product service.
            raise service_unavailable("this order is being placed by another request",
                                      slug="order-in-progress") from problem
        raise
    return Intake(view, created=True, event_id=created.event_id)
