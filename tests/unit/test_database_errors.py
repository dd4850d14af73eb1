"""Database errors a client can act on become problems; a full server is a 503, not a 500."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DatabaseError, DBAPIError

from shop_common.db import problem_from_database_error


class DriverError(Exception):
    """What pg8000 raises: the server's error fields as a dict, code under "C"."""


def database_error(code: str) -> DBAPIError:
    orig = DriverError({"S": "FATAL", "C": code, "M": "from the server"})
    return DatabaseError("SELECT 1", {}, orig)


@pytest.mark.parametrize("code", ["53300", "53200", "08006", "08001", "57P01", "57P03"])
def test_a_server_that_cannot_serve_anyone_is_a_503(code: str) -> None:
    problem = problem_from_database_error(database_error(code))
    assert problem is not None and problem.status == 503


def test_a_lock_not_had_in_time_is_a_409() -> None:
    problem = problem_from_database_error(database_error("55P03"))
    assert problem is not None and problem.status == 409


def test_a_bug_in_a_query_stays_a_bug() -> None:
    assert problem_from_database_error(database_error("42703")) is None  # undefined column
