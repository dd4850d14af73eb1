"""The reservation sweeper against the product database, with the order service faked."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from shop_common.clock import utcnow
from shop_common.config import validate_settings
from shop_common.db import create_db_engine
from tests.integration.ordering.conftest import scalar
from tests.support.functions import function_module
from tests.support.stack import ThrowawayStack

pytestmark = pytest.mark.integration

sweeper = function_module("product", "sweeper")


class NoOrderEverMade:
    """The order service's answer to a void of one of `keys`: no order exists under it.

    Any other test's leftover reservation finds the service "unavailable" and is left alone.
    """

    def __init__(self, *keys: str) -> None:
        self._keys = set(keys)

    def void(self, reservation_id: str) -> Any:
        if reservation_id not in self._keys:
            return sweeper.Unanswered("not this test's reservation")
        return sweeper.Voided(None)


class NoCache:
    def invalidate(self) -> None:
        pass


def pending_reservation(stack: ThrowawayStack, product_id: str, due: Any) -> str:
    reservation_id = str(uuid.uuid4())
    engine = create_engine(stack.env["SHOP_PRODUCT_DATABASE_URL"])
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "UPDATE products SET stock = stock - 1 WHERE id = :p"), {"p": product_id})
            connection.execute(text(
                "INSERT INTO reservations (id, user_id, idempotency_key, request_hash, "
                "product_id, product_name, unit_price, quantity, status, settle_after, "
                "created_at, updated_at) VALUES (:id, :u, :k, 'h', :p, 'P', 1, 1, 'pending', "
                ":due, now(), now())"),
                {"id": reservation_id, "u": str(uuid.uuid4()), "k": uuid.uuid4().hex,
                 "p": product_id, "due": due})
    finally:
        engine.dispose()
    return reservation_id


def test_a_locked_product_delays_only_its_own_reservation(
    stack: ThrowawayStack, new_product,
) -> None:
    # Due only for this test's clock, so the service's own sweeper leaves them alone.
    later = utcnow() + timedelta(hours=1)
    locked, free = new_product(stock=5), new_product(stock=5)
    stuck = pending_reservation(stack, locked["id"], later)  # first in the batch
    settles = pending_reservation(stack, free["id"], later + timedelta(seconds=1))

    settings = validate_settings("product", {
        "database_url": stack.env["SHOP_PRODUCT_DATABASE_URL"], "db_lock_timeout_ms": "200"})
    engine = create_db_engine(settings)
    holder = create_engine(stack.env["SHOP_PRODUCT_DATABASE_URL"])
    try:
        with holder.begin() as connection:  # a hold-lock order in flight on `locked`
            connection.execute(text("SELECT 1 FROM products WHERE id = :p FOR UPDATE"),
                               {"p": locked["id"]})
            report = sweeper.settle_due_reservations(
                sweeper.OrderingDeps(sessions=sessionmaker(engine), cache=NoCache(),
                                     orders=NoOrderEverMade(stuck, settles)),
                now=later + timedelta(minutes=1),
            )
    finally:
        holder.dispose()
        engine.dispose()
    # It used to stop at the locked product: the whole batch waited for the next run.
    assert report.restocked == 1 and report.left_pending >= 1
    status = "SELECT status FROM reservations WHERE id = :r"
    assert scalar(stack, "product", status, r=stuck) == "pending"
    assert scalar(stack, "product", status, r=settles) == "cancelled"
    assert scalar(stack, "product", "SELECT stock FROM products WHERE id = :p",
                  p=free["id"]) == 5
