"""Reservations in the database: taking stock under the row lock, and settling it.

Every settlement is a compare-and-set from `pending`, so the request that placed the
order, a replay of its key and the sweeper can race to settle one reservation and
exactly one of them wins; only the winner of a cancel puts the stock back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chalicelib import SERVICE
from chalicelib.catalog import lock_product
from chalicelib.idempotency import HEADER, request_fingerprint
from chalicelib.models import CANCELLED, CONFIRMED, PENDING, Product, Reservation
from shop_common.clock import utcnow
from shop_common.errors import conflict, not_found
from shop_common.idempotency import key_reused
from shop_common.metrics import order_conflict


@dataclass(frozen=True)
class OrderRequest:
    """The buyer's order as placing it sees it: who (`user_id`, from the token), which
    product, how many, under the buyer's `Idempotency-Key` header."""

    user_id: uuid.UUID
    product_id: uuid.UUID
    idempotency_key: str
    quantity: int

    @property
    def fingerprint(self) -> str:
        """What a repeat of the key must match to be the same request (product, quantity)."""
        return request_fingerprint(self.product_id, self.quantity)


@dataclass(frozen=True)
class ReservationSnapshot:
    """A reservation as read, usable after its session has closed.

    The placement and the sweeper read it: `id` is the order service's idempotency
    key; the buyer, product, name, price (a two-place Decimal) and quantity make the
    order; `status` is pending, confirmed or cancelled; `response_status` and
    `response_body` are the buyer's answer once settled (None while pending).
    """

    id: uuid.UUID
    user_id: uuid.UUID
    product_id: uuid.UUID
    product_name: str
    unit_price: Decimal
    quantity: int
    status: str
    response_status: int | None
    response_body: dict[str, Any] | None


def snapshot_of(reservation: Reservation) -> ReservationSnapshot:
    """A detached copy of the row's fields."""
    return ReservationSnapshot(
        id=reservation.id, user_id=reservation.user_id, product_id=reservation.product_id,
        product_name=reservation.product_name, unit_price=reservation.unit_price,
        quantity=reservation.quantity, status=reservation.status,
        response_status=reservation.response_status, response_body=reservation.response_body,
    )


def find_reservation(session: Session, user_id: uuid.UUID, key: str) -> Reservation | None:
    return session.scalar(select(Reservation).where(
        Reservation.user_id == user_id, Reservation.idempotency_key == key
    ))


def load_reservation(session: Session, reservation_id: uuid.UUID) -> ReservationSnapshot:
    reservation = session.scalar(
        select(Reservation).where(Reservation.id == reservation_id)
        .execution_options(populate_existing=True)
    )
    if reservation is None:
        raise not_found("no such reservation")
    return snapshot_of(reservation)


def _same_request(reservation: Reservation, request: OrderRequest) -> Reservation:
    if reservation.request_hash != request.fingerprint:
        raise key_reused(HEADER)
    return reservation


def reserve_stock(session: Session, request: OrderRequest,
                  hold_for: timedelta) -> tuple[ReservationSnapshot, bool]:
    """The reservation for this key, and whether this call created it.

    A new one takes the stock under the product's row lock. An existing one (a replay)
    is returned untouched, provided the request is the same.
    """
    existing = find_reservation(session, request.user_id, request.idempotency_key)
    if existing is not None:
        return snapshot_of(_same_request(existing, request)), False
    product = lock_product(session, request.product_id)
    # A twin request with this key may have committed while we waited for the lock.
    existing = find_reservation(session, request.user_id, request.idempotency_key)
    if existing is not None:
        return snapshot_of(_same_request(existing, request)), False
    if product.stock < request.quantity:
        order_conflict(SERVICE, "out_of_stock")
        raise conflict(
            f"only {product.stock} left in stock", slug="out-of-stock",
            available=product.stock, requested=request.quantity,
        )
    now = utcnow()
    product.stock -= request.quantity
    reservation = Reservation(
        id=uuid.uuid4(), user_id=request.user_id, idempotency_key=request.idempotency_key,
        request_hash=request.fingerprint, product_id=product.id, product_name=product.name,
        unit_price=product.price, quantity=request.quantity, status=PENDING,
        settle_after=now + hold_for, created_at=now, updated_at=now,
    )
    session.add(reservation)
    try:
        session.flush()
    except IntegrityError:
        # The same key committed at this moment for another product (the same product
        # would have waited on the row lock): a different request under one key.
        raise key_reused(HEADER) from None
    return snapshot_of(reservation), True


def confirm(session: Session, reservation_id: uuid.UUID, order: dict[str, Any]) -> bool:
    """pending → confirmed, remembering the order as the answer to replays."""
    result = session.execute(
        update(Reservation)
        .where(Reservation.id == reservation_id, Reservation.status == PENDING)
        .values(status=CONFIRMED, order_id=uuid.UUID(str(order["id"])), response_status=201,
                response_body=order, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def cancel(session: Session, reservation_id: uuid.UUID, status: int,
           body: dict[str, Any]) -> bool:
    """pending → cancelled and the stock put back; False if already settled."""
    row = session.execute(
        update(Reservation)
        .where(Reservation.id == reservation_id, Reservation.status == PENDING)
        .values(status=CANCELLED, response_status=status, response_body=body,
                updated_at=utcnow())
        .returning(Reservation.product_id, Reservation.quantity)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return False
    session.execute(
        update(Product).where(Product.id == row.product_id)
        .values(stock=Product.stock + row.quantity)
        .execution_options(synchronize_session=False)
    )
    return True


def settle_soon(session: Session, reservation_id: uuid.UUID, now: datetime) -> None:
    """The placing request gave up: let the sweeper settle the reservation right away."""
    session.execute(
        update(Reservation)
        .where(Reservation.id == reservation_id, Reservation.status == PENDING)
        .values(settle_after=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def due_reservations(session: Session, now: datetime, limit: int) -> list[ReservationSnapshot]:
    rows = session.scalars(
        select(Reservation)
        .where(Reservation.status == PENDING, Reservation.settle_after <= now)
        .order_by(Reservation.settle_after)
        .limit(limit)
    )
    return [snapshot_of(r) for r in rows]
