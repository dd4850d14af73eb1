"""The order book: orders with their `order.placed` events, voided keys, and reads.

`create_order` writes the order and its outbox row in the caller's transaction, so
the event exists exactly when the order does; intake.py publishes it after the commit.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from chalicelib.buyers import Buyer
from chalicelib.models import PLACED, Order, OutboxEvent, VoidedKey
from chalicelib.schemas import InternalOrderBody, order_view
from shop_common.clock import utcnow
from shop_common.errors import Problem, conflict, not_found
from shop_common.events import ORDER_PLACED, order_placed_data
from shop_common.idempotency import key_reused
from shop_common.ids import parse_uuid
from shop_common.outbox import record_event
from shop_common.pagination import PageRequest, page_body


def lock_key(session: Session, key: str) -> None:
    """Serialise everything done under one key until this transaction ends.

    Creating and voiding the same key must never both succeed; the connection's
    lock_timeout bounds the wait.
    """
    session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


def find_by_key(session: Session, key: str) -> Order | None:
    return session.scalar(select(Order).where(Order.idempotency_key == key))


def is_voided(session: Session, key: str) -> bool:
    return session.get(VoidedKey, key) is not None


def same_order(order: Order, body: InternalOrderBody) -> Order:
    if order.request_hash != body.fingerprint():
        raise key_reused("idempotency_key", "order")
    return order


def order_voided() -> Problem:
    return conflict("this order was cancelled and can no longer be placed", slug="order-voided")


def create_order(session: Session, body: InternalOrderBody, buyer: Buyer) -> Order:
    """Insert the order and its `order.placed` event; the caller holds the key's lock."""
    order = Order(
        id=uuid.uuid4(), idempotency_key=body.idempotency_key, request_hash=body.fingerprint(),
        user_id=body.user_id, product_id=body.product_id, product_name=body.product_name,
        quantity=body.quantity, unit_price=body.unit_price,
        total=body.unit_price * body.quantity, status=PLACED, created_at=utcnow(),
    )
    session.add(order)
    record_event(session, OutboxEvent, ORDER_PLACED, invoice_data(order, buyer))
    session.flush()
    return order


def invoice_data(order: Order, buyer: Buyer) -> dict[str, Any]:
    """The `order.placed` event's data: everything an invoice needs, money as strings."""
    return order_placed_data(
        order_id=order.id, user_id=order.user_id, email=buyer.email, name=buyer.name,
        product_id=order.product_id, product_name=order.product_name,
        quantity=order.quantity, unit_price=order.unit_price, total=order.total,
        placed_at=order.created_at,
    )


def void_key(session: Session, key: str) -> Order | None:
    """The order made under `key`, or None after making sure none ever will be."""
    lock_key(session, key)
    order = find_by_key(session, key)
    if order is not None:
        return order
    if not is_voided(session, key):
        session.add(VoidedKey(idempotency_key=key, voided_at=utcnow()))
    return None


def list_orders(session: Session, page: PageRequest, user_id: uuid.UUID | None) -> dict[str, Any]:
    """Newest first; only `user_id`'s orders unless it is None (a superadmin)."""
    query = select(Order)
    if user_id is not None:
        query = query.where(Order.user_id == user_id)
    if page.after is not None:
        query = query.where(
            tuple_(Order.created_at, Order.id) < tuple_(page.after.created_at, page.after.id)
        )
    rows = list(session.scalars(
        query.order_by(Order.created_at.desc(), Order.id.desc()).limit(page.limit + 1)
    ))
    return page_body(rows, page, order_view)


def get_order(session: Session, order_id: str, user_id: uuid.UUID | None) -> Order:
    """The order; someone else's is "not found", exactly like one that does not exist."""
    key = parse_uuid(order_id)
    if key is None:
        raise not_found("no such order")
    order = session.get(Order, key)
    if order is None or (user_id is not None and order.user_id != user_id):
        raise not_found("no such order")
    return order
