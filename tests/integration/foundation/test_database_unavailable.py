"""A database that does not answer in time is a 503 problem, and the pool recovers."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from shop_common.config import load_settings
from shop_common.db import create_db_engine, socket_timeout_seconds, transaction
from shop_common.errors import Problem
from tests.support.stack import ThrowawayStack

pytestmark = pytest.mark.integration


def test_a_query_the_driver_gave_up_on_is_a_503_and_the_next_one_works(
    stack: ThrowawayStack,
) -> None:
    # Short server-side timeouts, so the driver's socket timeout (which outlasts them) is short.
    settings = load_settings("product", stack.process_env(
        SHOP_PRODUCT_DB_LOCK_TIMEOUT_MS="500", SHOP_PRODUCT_DB_STATEMENT_TIMEOUT_MS="1000"))
    socket_timeout = socket_timeout_seconds(settings)
    engine = create_db_engine(settings)
    sessions = sessionmaker(engine)
    try:
        # A server that does not answer within the driver's socket timeout (this one
        # lifts its own statement timeout): the driver gives up first.
        with pytest.raises(Problem) as raised, transaction(sessions) as session:
            session.execute(text("SET LOCAL statement_timeout = 0"))
            session.execute(text(f"SELECT pg_sleep({socket_timeout + 1})"))
        assert raised.value.status == 503

        with transaction(sessions) as session:
            assert session.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()
