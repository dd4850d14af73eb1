"""The scheduled sweeper: settles reservations left pending.

A reservation stays pending when its order call had no definite answer, or when the
process placing it died mid-way. Once due, the sweeper voids its key at the order
service, which answers for good: the order exists (confirm) or now never will
(cancel and restock). If the order service cannot be reached, the reservation stays
pending for the next run; the stock is never released on a guess.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from chalicelib import SERVICE
from chalicelib.order_placement import OrderingDeps
from chalicelib.order_service_client import Unanswered, Voided
from chalicelib.reservations import cancel, confirm, due_reservations
from chalicelib.saga import Step, after_void
from shop_common.clock import utcnow
from shop_common.db import transaction
from shop_common.errors import Problem
from shop_common.metrics import order_placed

log = logging.getLogger("shop.product.sweeper")

BATCH = 100


@dataclass(frozen=True)
class SweepReport:
    confirmed: int = 0
    restocked: int = 0
    left_pending: int = 0

    def __str__(self) -> str:
        return (f"confirmed {self.confirmed}, restocked {self.restocked}, "
                f"left pending {self.left_pending}")


def expired_problem() -> Problem:
    return Problem(
        409, "Conflict",
        "the order was not placed and its stock was released; "
        "send a new Idempotency-Key to order again",
        slug="order-expired",
    )


def settle_due_reservations(deps: OrderingDeps, now: datetime | None = None,
                            limit: int = BATCH) -> SweepReport:
    """Settle up to `limit` reservations pending past their `settle_after` (at `now`,
    default the current time): void each key and confirm or cancel-and-restock by the
    answer. One whose void is unanswered, or whose product stays locked, is left
    pending for the next run. Raises a Problem only when the database fails.
    """
    with transaction(deps.sessions) as session:
        due = due_reservations(session, now or utcnow(), limit)
    confirmed = restocked = left = 0
    for reservation in due:
        match deps.orders.void(str(reservation.id)):
            case Unanswered(reason=reason):
                left += 1
                log.warning("reservation not settled; order service unavailable",
                            extra={"reservation_id": str(reservation.id), "reason": reason})
                continue
            case Voided(order=order):
                step = after_void(order is not None)
        try:
            with transaction(deps.sessions) as session:
                if step is Step.CONFIRM:
                    assert order is not None
                    settled = confirm(session, reservation.id, order)
                else:
                    problem = expired_problem()
                    settled = cancel(session, reservation.id, problem.status, problem.to_dict())
        except Problem as exc:
            if exc.slug != "locked":
                raise  # the database is failing: the whole run waits for the next one
            # The product row stayed locked past lock_timeout (a hold-lock order in
            # flight): this one waits for the next run; the rest of the batch does not.
            left += 1
            log.warning("reservation not settled; its product is locked",
                        extra={"reservation_id": str(reservation.id)})
            continue
        if settled and step is Step.CONFIRM:
            order_placed(SERVICE)
            confirmed += 1
        elif settled:
            restocked += 1
    if restocked:
        deps.cache.invalidate()
    report = SweepReport(confirmed, restocked, left)
    if due:
        log.info("reservations swept", extra={
            "confirmed": confirmed, "restocked": restocked, "left_pending": left})
    return report
