"""The database layer itself, against a service's throw-away database: a broken
connection never goes back into the pool for the next request."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from shop_common.config import validate_settings
from shop_common.db import create_db_engine
from tests.support.stack import ThrowawayStack

pytestmark = pytest.mark.integration


def test_a_parameter_the_driver_cannot_send_does_not_poison_the_pool(
    stack: ThrowawayStack,
) -> None:
    settings = validate_settings("order", {
        "database_url": stack.env["SHOP_ORDER_DATABASE_URL"], "db_pool_size": "1"})
    engine = create_db_engine(settings)
    try:
        # pg8000 converts this to UTC only after it began the exchange with the server.
        unsendable = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))
        with pytest.raises(OverflowError), engine.connect() as connection:
            connection.execute(text("SELECT :t"), {"t": unsendable})
        for attempt in range(3):  # the pool holds one connection: it would be the broken one
            with engine.connect() as connection:
                echoed = connection.execute(text("SELECT CAST(:n AS integer)"), {"n": attempt})
                assert echoed.scalar() == attempt
    finally:
        engine.dispose()
