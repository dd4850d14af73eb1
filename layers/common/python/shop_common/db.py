"""SQLAlchemy 2 on pg8000: one engine per process, one session (a transaction) per unit of work.

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
# The server cannot serve anyone right now, whatever the request: connection exceptions
# (08), insufficient resources such as "too many connections" (53), and the server
# shutting down or starting (57P01-57P03). https://www.postgresql.org/docs/current/errcodes-appendix.html
UNAVAILABLE_CLASSES = ("08", "53")
UNAVAILABLE_CODES = frozenset({"57P01", "57P02", "57P03"})
CONNECT_TIMEOUT_SECONDS = 5


def connect_args(url: str, service: str) -> dict[str, Any]:
    """The driver's own names for the connect timeout and the application name."""
    timeout = "connect_timeout" if url.startswith("postgresql+psycopg") else "timeout"
    return {timeout: CONNECT_TIMEOUT_SECONDS, "application_name": f"shop-{service}"}


def _create_engine(settings: Settings) -> Engine:
    return create_engine(
        str(settings.database_url),
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=5,
        pool_recycle=300,
        # Bound parameters never appear in error messages, so a failed INSERT cannot
        # write a password hash or an email into the logs.
        hide_parameters=True,
        connect_args=connect_args(str(settings.database_url), settings.service_name),
    )


def create_db_engine(settings: Settings) -> Engine:
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
            return service_unavailable("the database did not answer in time",
                                       slug="db-unavailable")
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
        return service_unavailable("the database is unavailable", slug="db-unavailable")
    return None


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
