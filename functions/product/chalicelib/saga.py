"""The decisions of the reservation saga, kept apart from the I/O that acts on them.

After stock is reserved and committed, the order service is asked to create the
order. What happens to the reservation depends only on what that call said:

- the order exists        → CONFIRM: the stock stays taken;
- a definite rejection    → RESTOCK: the order service did not and will not create it;
- anything else (timeout, connection error, 5xx) → SETTLE_LATER: the order may exist,
  so the stock is never put back blindly. The sweeper later voids the key at the
  order service, which answers for good whether the order exists.
"""

from __future__ import annotations

from enum import Enum

from chalicelib.models import CANCELLED, CONFIRMED, PENDING
from chalicelib.order_service_client import Created, CreateResult, Refused, Unanswered


class Step(Enum):
    CONFIRM = "confirm"
    RESTOCK = "restock"
    SETTLE_LATER = "settle-later"


class Replay(Enum):
    STORED_RESPONSE = "stored-response"  # settled: answer exactly as the first time
    CALL_AGAIN = "call-again"  # still pending: the create call is safe to repeat


def after_create_call(result: CreateResult) -> Step:
    match result:
        case Created():
            return Step.CONFIRM
        case Refused():
            return Step.RESTOCK
        case Unanswered():
            return Step.SETTLE_LATER


def after_void(order_exists: bool) -> Step:
    """A void is final: either the order exists, or it now never will."""
    return Step.CONFIRM if order_exists else Step.RESTOCK


def on_replay(status: str) -> Replay:
    if status in (CONFIRMED, CANCELLED):
        return Replay.STORED_RESPONSE
    if status == PENDING:
        return Replay.CALL_AGAIN
    raise ValueError(f"unknown reservation status {status!r}")
