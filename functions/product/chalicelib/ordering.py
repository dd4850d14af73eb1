"""Placing an order: the reservation saga, or the seed's hold-the-lock strategy.

saga:      reserve (row lock, decrement, reservation) and commit → call the order
           service with the reservation id as its key → settle in a new transaction.
hold-lock: the same steps in one transaction, so the product row stays locked for
           the whole call. Kept so the two can be measured side by side.

Either way a reservation whose outcome is unknown is committed as pending and left
to the sweeper (sweeper.py); stock is never put back on a guess.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from chalicelib import SERVICE
from chalicelib.catalog_cache import CatalogCache
from chalicelib.order_client import OrderServiceClient
from chalicelib.reservations import (
    OrderRequest,
    ReservationSnapshot,
    cancel,
    confirm,
    load_reservation,
    reserve_stock,
    settle_soon,
)
from chalicelib.saga import Replay, Step, after_create_call, on_replay
from shop_common.clock import utcnow
from shop_common.db import transaction
from shop_common.errors import Problem, service_unavailable
from shop_common.metrics import order_conflict, order_placed
from shop_common.service_client import (
    Outcome,
    ServiceRejected,
    ServiceUnavailable,
    upstream_detail,
)

log = logging.getLogger("shop.product.ordering")

SAGA = "saga"
HOLD_LOCK = "hold-lock"


@dataclass(frozen=True)
class OrderingDeps:
    sessions: sessionmaker[Session]
    orders: OrderServiceClient
    cache: CatalogCache
    strategy: str = SAGA
    hold_for: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class OrderAnswer:
    """What the buyer is told: 201 with the order, or a problem."""

    status: int
    body: dict[str, Any]
    replayed: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def rejected_problem(exc: ServiceRejected) -> Problem:
    reason = upstream_detail(exc.upstream_body) or f"status {exc.upstream_status}"
    return Problem(409, "Conflict", f"the order was refused: {reason}", slug="order-rejected")


def unknown_outcome_problem() -> Problem:
    return service_unavailable(
        "the order service did not answer; the order is not confirmed. Retry with the "
        "same Idempotency-Key to complete it, or wait: unconfirmed stock is released",
        slug="order-unconfirmed", retry_after=2,
    )


def stored_answer(reservation: ReservationSnapshot, replayed: bool = True) -> OrderAnswer:
    """The answer a settled reservation gave, given again."""
    assert reservation.response_status is not None and reservation.response_body is not None
    return OrderAnswer(reservation.response_status, reservation.response_body, replayed)


def place_order(deps: OrderingDeps, request: OrderRequest) -> OrderAnswer:
    try:
        if deps.strategy == HOLD_LOCK:
            return _place_holding_lock(deps, request)
        return _place_saga(deps, request)
    except Problem as problem:
        if problem.slug == "locked":
            order_conflict(SERVICE, "locked")
        raise


def _place_saga(deps: OrderingDeps, request: OrderRequest) -> OrderAnswer:
    with transaction(deps.sessions) as session:
        reservation, created = reserve_stock(session, request, deps.hold_for)
    if created:
        deps.cache.invalidate()  # the stock changed and is committed
    if on_replay(reservation.status) is Replay.STORED_RESPONSE:
        return stored_answer(reservation)
    return _complete(deps, reservation, replayed=not created)


def _place_holding_lock(deps: OrderingDeps, request: OrderRequest) -> OrderAnswer:
    with transaction(deps.sessions) as session:
        reservation, created = reserve_stock(session, request, deps.hold_for)
        if created:
            # The product row stays locked until this transaction commits, after the call.
            answer = _complete(deps, reservation, replayed=False, session=session)
    if created:
        deps.cache.invalidate()
        return answer
    if on_replay(reservation.status) is Replay.STORED_RESPONSE:
        return stored_answer(reservation)
    return _complete(deps, reservation, replayed=True)


@contextmanager
def _settling(deps: OrderingDeps, session: Session | None) -> Iterator[Session]:
    """The caller's open transaction (hold-lock), or a new one (saga)."""
    if session is not None:
        yield session
        return
    with transaction(deps.sessions) as own:
        yield own


def _complete(deps: OrderingDeps, reservation: ReservationSnapshot, *, replayed: bool,
              session: Session | None = None) -> OrderAnswer:
    """Ask the order service for the order, then settle the reservation by what it said."""
    order: dict[str, Any] = {}
    rejection: ServiceRejected | None = None
    try:
        order = deps.orders.create(reservation.draft())
        outcome = Outcome.SUCCESS
    except ServiceRejected as exc:
        rejection, outcome = exc, Outcome.REJECTED
    except ServiceUnavailable:
        outcome = Outcome.UNKNOWN
    step = after_create_call(outcome)

    restocked = False
    with _settling(deps, session) as tx:
        if step is Step.CONFIRM:
            if confirm(tx, reservation.id, order):
                order_placed(SERVICE)
            # Otherwise a replay of the key confirmed it first: it is the same order. A
            # cancel cannot have won, as the order service refuses a voided key.
            return OrderAnswer(201, order, replayed)
        if step is Step.RESTOCK:
            assert rejection is not None
            problem = rejected_problem(rejection)
            restocked = cancel(tx, reservation.id, problem.status, problem.to_dict())
            if restocked:
                order_conflict(SERVICE, "rejected")
            answer = stored_answer(load_reservation(tx, reservation.id), replayed)
        else:
            settle_soon(tx, reservation.id, utcnow())
            log.warning("order outcome unknown; reservation left to the sweeper",
                        extra={"reservation_id": str(reservation.id)})
            order_conflict(SERVICE, "unavailable")
            problem = unknown_outcome_problem()
            answer = OrderAnswer(problem.status, problem.to_dict(), replayed, problem.headers)
    if restocked and session is None:
        deps.cache.invalidate()
    return answer
