"""A database that does not answer in time is a 503 problem, and the pool recovers."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from shop_common.config import load_settings
from shop_common.db import CONNECT_TIMEOUT_SECONDS, create_db_engine, transaction
from shop_common.errors import Problem
from tests.support.stack import ThrowawayStack

pytestmark = pytest.mark.integration


def test_a_query_the_driver_gave_up_on_is_a_503_and_the_next_one_works(
    stack: ThrowawayStack,
) -> None:
    settings = load_settings("product", stack.process_env())
    engine = create_db_engine(settings)
    sessions = sessionmaker(engine)
    try:
        # Longer than the driver's socket timeout, shorter than statement_timeout: the
        # driver's read times out before the server answers.
        with pytest.raises(Problem) as raised, transaction(sessions) as session:
            session.execute(text(f"SELECT pg_sleep({CONNECT_TIMEOUT_SECONDS + 1})"))
        assert raised.value.status == 503

        with transaction(sessions) as session:
            assert session.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()
