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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from chalicelib import SERVICE
from chalicelib.catalog_cache import CatalogCache
from chalicelib.order_service_client import (
    Created,
    CreateResult,
    NewOrder,
    OrderServiceClient,
    Refused,
)
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
    """What the buyer is told: `status` 201 with the order as `body`, or a problem's
    status and body; `replayed` when an earlier request with the key placed it (the
    route adds `Idempotent-Replayed: true`); `headers` such as a 503's `Retry-After`."""

    status: int
    body: dict[str, Any]
    replayed: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def rejected_problem(refusal: Refused) -> Problem:
    return Problem(409, "Conflict", f"the order was refused: {refusal.reason}",
                   slug="order-rejected")


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


def new_order(reservation: ReservationSnapshot) -> NewOrder:
    """The order to record for a reservation, keyed by the reservation's id."""
    return NewOrder(
        key=str(reservation.id), user_id=str(reservation.user_id),
        product_id=str(reservation.product_id), product_name=reservation.product_name,
        quantity=reservation.quantity, unit_price=reservation.unit_price,
    )


def place_order(deps: OrderingDeps, request: OrderRequest) -> OrderAnswer:
    """Reserve the stock and have the order service record the order, by `deps.strategy`.

    Returns 201 with the order (or the stored answer again for a repeated key), 409
    `order-rejected`/`order-expired`, or 503 `order-unconfirmed` as an OrderAnswer.
    Raises a 404 (no such product), 409 (`out-of-stock`, `locked`) or 422
    (`idempotency-key-reused`) problem.
    """
    strategy = HOLD_LOCK_PLACEMENT if deps.strategy == HOLD_LOCK else SAGA_PLACEMENT
    try:
        return strategy(deps, request)
    except Problem as problem:
        if problem.slug == "locked":
            order_conflict(SERVICE, "locked")
        raise


def place_with_saga(deps: OrderingDeps, request: OrderRequest) -> OrderAnswer:
    """Commit the reservation, then call the order service and settle in a new transaction."""
    with transaction(deps.sessions) as session:
        reservation, created = reserve_stock(session, request, deps.hold_for)
    if created:
        deps.cache.invalidate()  # the stock changed and is committed
    return _complete(deps, reservation, replayed=not created)


def place_holding_lock(deps: OrderingDeps, request: OrderRequest) -> OrderAnswer:
    """Reserve, call the order service and settle in one transaction: the product row
    stays locked for the whole call. A repeated key completes as the saga does."""
    with transaction(deps.sessions) as session:
        reservation, created = reserve_stock(session, request, deps.hold_for)
        if created:
            result = deps.orders.create(new_order(reservation))
            answer, _ = _settle(session, reservation, result, replayed=False)
    if not created:
        return _complete(deps, reservation, replayed=True)
    deps.cache.invalidate()
    return answer


Placement = Callable[[OrderingDeps, OrderRequest], OrderAnswer]
SAGA_PLACEMENT: Placement = place_with_saga
HOLD_LOCK_PLACEMENT: Placement = place_holding_lock


def _complete(deps: OrderingDeps, reservation: ReservationSnapshot, *,
              replayed: bool) -> OrderAnswer:
    """A committed reservation: answer a settled one again, else call and settle it."""
    if on_replay(reservation.status) is Replay.STORED_RESPONSE:
        return stored_answer(reservation)
    result = deps.orders.create(new_order(reservation))
    with transaction(deps.sessions) as session:
        answer, restocked = _settle(session, reservation, result, replayed)
    if restocked:
        deps.cache.invalidate()
    return answer


def _settle(session: Session, reservation: ReservationSnapshot, result: CreateResult,
            replayed: bool) -> tuple[OrderAnswer, bool]:
    """Settle the reservation by the order service's answer, in `session`; the buyer's
    answer, and whether the stock was put back."""
    step = after_create_call(result)
    if step is Step.CONFIRM:
        assert isinstance(result, Created)
        if confirm(session, reservation.id, result.order):
            order_placed(SERVICE)
        # Otherwise a replay of the key confirmed it first: it is the same order. A
        # cancel cannot have won, as the order service refuses a voided key.
        return OrderAnswer(201, result.order, replayed), False
    if step is Step.RESTOCK:
        assert isinstance(result, Refused)
        problem = rejected_problem(result)
        restocked = cancel(session, reservation.id, problem.status, problem.to_dict())
        if restocked:
            order_conflict(SERVICE, "rejected")
        return stored_answer(load_reservation(session, reservation.id), replayed), restocked
    settle_soon(session, reservation.id, utcnow())
    log.warning("order outcome unknown; reservation left to the sweeper",
                extra={"reservation_id": str(reservation.id)})
    order_conflict(SERVICE, "unavailable")
    problem = unknown_outcome_problem()
    return OrderAnswer(problem.status, problem.to_dict(), replayed, problem.headers), False
