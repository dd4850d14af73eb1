"""SQLAlchemy 2 on pg8000: one engine per process, one session (a transaction) per unit of work.

A unit of work ends in one of three ways for the caller: committed; a problem it can
act on (409 `locked` when a row lock was not granted within `lock_timeout`; 503 with
Retry-After when the database is unreachable, restarting, too slow, or the
connection was lost); or a real bug (500). The timeouts are ordered so the database
answers first: `lock_timeout` and `statement_timeout` end a wait with an error the
server reports, and the driver's socket timeout is longer than both, so it only
fires when the server itself is gone.

psycopg 3 (`postgresql+psycopg://`) is accepted too, so `make bench` can compare the drivers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from shop_common.config import Settings, SettingsError
from shop_common.errors import Problem, conflict, service_unavailable

LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"
# The server cannot serve anyone right now, whatever the request (PostgreSQL Appendix A,
# https://www.postgresql.org/docs/current/errcodes-appendix.html): connection exceptions
# (08), insufficient resources such as "too many connections" (53), and the server
# shutting down, crashed or starting (57P01-57P03).
UNAVAILABLE_CLASSES = ("08", "53")
UNAVAILABLE_CODES = frozenset({"57P01", "57P02", "57P03"})
# How much longer the driver waits on its socket than the server's own timeouts.
SOCKET_TIMEOUT_MARGIN_SECONDS = 5.0


def socket_timeout_seconds(settings: Settings) -> float:
    """pg8000's socket timeout: past the longest wait the server ends itself."""
    longest_ms = max(settings.db_lock_timeout_ms, settings.db_statement_timeout_ms)
    return longest_ms / 1000 + SOCKET_TIMEOUT_MARGIN_SECONDS


def connect_args(settings: Settings) -> dict[str, Any]:
    """The driver's own names for the socket/connect timeout and the application name."""
    url = str(settings.database_url)
    timeout = "connect_timeout" if url.startswith("postgresql+psycopg") else "timeout"
    return {timeout: socket_timeout_seconds(settings),
            "application_name": f"shop-{settings.service_name}"}


def _create_engine(settings: Settings) -> Engine:
    return create_engine(
        str(settings.database_url),
        # No pool_pre_ping: it cost every checkout a round trip (a SELECT 1) before
        # the request's own statements. A connection the server dropped
        # (a restart, an idle timeout) fails its first use instead: that request gets
        # a 503 with Retry-After (`problem_from_database_error`) and SQLAlchemy, seeing
        # a disconnect, discards every connection of the pool opened before it, so the
        # next request connects afresh. pool_recycle retires connections before any
        # server-side idle timeout would cut them.
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=5,
        pool_recycle=300,
        # Bound parameters never appear in error messages, so a failed INSERT cannot
        # write a password hash or an email into the logs.
        hide_parameters=True,
        connect_args=connect_args(settings),
    )


def create_db_engine(settings: Settings) -> Engine:
    """The service's SQLAlchemy engine; connects lazily (nothing is opened here).

    Pool of `db_pool_size` connections plus as many overflow, 5 s checkout timeout,
    connections recycled after 300 s; each new connection sets `lock_timeout` and
    `statement_timeout` (milliseconds, from the settings) and the driver's socket timeout
    (`socket_timeout_seconds`). Raises SettingsError when the URL's driver is not installed.
    """
    try:
        engine = _create_engine(settings)
    except ModuleNotFoundError as exc:
        raise SettingsError(
            f"SHOP_{settings.service_name.upper()}_DATABASE_URL: its driver {exc.name!r} is "
            "not installed (psycopg comes only with the bench extra: pip install -e '.[bench]')"
        ) from None
    lock_ms, statement_ms = settings.db_lock_timeout_ms, settings.db_statement_timeout_ms

    @event.listens_for(engine, "connect")
    def _set_timeouts(dbapi_connection: Any, _record: Any) -> None:
        # Session-level settings must be set outside a transaction, or the pool's
        # reset-on-return rollback would undo them.
        dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET lock_timeout = {int(lock_ms)}")
        cursor.execute(f"SET statement_timeout = {int(statement_ms)}")
        cursor.close()
        dbapi_connection.autocommit = False

    @event.listens_for(engine, "handle_error")
    def _discard_broken_connection(context: ExceptionContext) -> BaseException | None:
        # An exception that is not the database's answer (pg8000 failing to convert a
        # parameter, say) can come after the driver began the exchange with the server;
        # the connection would go back to the pool mid-protocol and fail whoever gets it
        # next. Discard that one connection (not the whole pool).
        driver_answered = isinstance(context.original_exception, engine.dialect.loaded_dbapi.Error)
        if not driver_answered and isinstance(context.original_exception, Exception):
            context.is_disconnect = True
            context.invalidate_pool_on_disconnect = False
        if isinstance(context.original_exception, OSError):
            # The driver's socket failed mid-exchange (a read timed out, the server went
            # away): the database did not answer, which is a 503, not a bug. Returned, not
            # raised, so SQLAlchemy still discards the connection before raising it.
            return database_unavailable()
        return None

    return engine


def sqlstate(exc: DBAPIError) -> str | None:
    """The PostgreSQL error code of a pg8000 (or psycopg) error, if it carries one."""
    code = getattr(exc.orig, "sqlstate", None)  # psycopg
    if isinstance(code, str):
        return code
    args = getattr(exc.orig, "args", ())
    if args and isinstance(args[0], dict):
        code = args[0].get("C")
        return str(code) if code else None
    return None


def problem_from_database_error(exc: DBAPIError) -> Problem | None:
    """Turn the database errors a client can act on into problems; None for real bugs."""
    code = sqlstate(exc)
    if code == LOCK_NOT_AVAILABLE:
        return conflict("the resource is being changed by another request; retry", slug="locked")
    if code == QUERY_CANCELED:
        return service_unavailable("the database took too long to answer", slug="db-timeout")
    if (isinstance(exc, OperationalError) or exc.connection_invalidated or code is None
            or code.startswith(UNAVAILABLE_CLASSES) or code in UNAVAILABLE_CODES):
        return database_unavailable()
    return None


def database_unavailable() -> Problem:
    """The 503 problem `db-unavailable`, Retry-After 1 s, for a database that did not answer."""
    return service_unavailable("the database is unavailable", slug="db-unavailable")


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session and one transaction: committed on success, rolled back on any error."""
    try:
        with factory() as session, session.begin():
            yield session
    except DBAPIError as exc:
        problem = problem_from_database_error(exc)
        if problem is None:
            raise
        raise problem from exc
    except PoolTimeoutError as exc:
        # Every pooled connection stayed busy for pool_timeout: overload, not a bug.
        raise service_unavailable("all database connections are busy", slug="db-busy") from exc
    except OSError as exc:
        # pg8000 lets a socket error (timeout, reset) escape raw from the first read of
        # an answer, not as a DBAPI error; SQLAlchemy has discarded the connection
        # (`_discard_broken_connection`). The database is gone for now, not a bug.
        raise database_unavailable() from exc
