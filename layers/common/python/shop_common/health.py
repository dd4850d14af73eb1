"""`GET /health`: the state of the database, the cache and the broker, each checked for real.

A healthy answer is reused for `HEALTHY_ANSWER_SECONDS` by the process (one Lambda
execution environment) that found it: under a load balancer's or a monitor's polling,
`/health` would otherwise cost three round trips (PostgreSQL, Redis, RabbitMQ) per
request. A degraded answer is never reused, so a failure shows within that window
and a recovery at the next request.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Callable
from functools import cache
from typing import Any

import pika
from chalice.app import Response
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError
from sqlalchemy import text

from shop_common.errors import Problem
from shop_common.messaging import connection_parameters, quiet_pika
from shop_common.runtime import ServiceRuntime

Check = Callable[[], None]


def check_database(runtime: ServiceRuntime) -> None:
    """Run `SELECT 1` on a pooled connection; raises what SQLAlchemy raises when it cannot."""
    with runtime.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def check_cache(runtime: ServiceRuntime) -> None:
    """PING Redis; raises redis-py's error (ConnectionError, TimeoutError …) when it cannot."""
    runtime.redis.ping()


BROKER_TIMEOUT_SECONDS = 1.0


class BrokerProbe:
    """One long-lived broker connection that `/health` asks, instead of a new one per call.

    pika connections are not thread-safe and the local host serves requests on threads,
    so one check runs at a time, and callers that arrive while it runs share its answer
    instead of queueing for their own (a single flight: under load, `/health` costs one
    broker round trip per round trip, not one per request). Each check is a synchronous
    no-op on the channel (Basic.Qos with the default prefetch): one round trip the broker
    must answer. A connection that died meanwhile (the broker restarted) is replaced
    once before the broker is reported down. No heartbeats: the connection is idle
    between checks, when nothing would answer them, and a dead one is found by the next
    check.
    """

    def __init__(self, amqp_url: str, timeout_seconds: float = BROKER_TIMEOUT_SECONDS) -> None:
        self._url = amqp_url
        self._timeout = timeout_seconds
        self._lock = threading.Lock()
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._flight_lock = threading.Lock()
        self._flight: _Flight | None = None

    def check(self) -> None:
        """Return when the broker answered; raise (AMQPError, OSError, TimeoutError) if not."""
        with self._flight_lock:
            flight, leading = self._flight, self._flight is None
            if flight is None:
                flight = self._flight = _Flight()
        if not leading:
            if not flight.done.wait(2 * self._timeout + 1):
                raise TimeoutError("the broker check in flight did not finish")
            if flight.error is not None:
                raise flight.error
            return
        try:
            self._check_now()
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._flight_lock:
                self._flight = None
            flight.done.set()

    def _check_now(self) -> None:
        if not self._lock.acquire(timeout=self._timeout):
            raise TimeoutError("another broker check is still waiting for the broker")
        try:
            reused = self._channel is not None and self._channel.is_open
            try:
                self._ask()
            except (AMQPError, OSError):
                self._discard()
                if not reused:
                    raise
                self._ask()  # the old connection had died: one fresh try
        finally:
            self._lock.release()

    def close(self) -> None:
        """Close the probe's connection, if any; the next check opens a new one. Never raises."""
        with self._lock:
            self._discard()

    def _ask(self) -> None:
        if self._channel is None or not self._channel.is_open:
            self._discard()
            self._connection = pika.BlockingConnection(
                connection_parameters(self._url, timeout=self._timeout, heartbeat=0))
            self._channel = self._connection.channel()
        self._channel.basic_qos(prefetch_count=0)

    def _discard(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(AMQPError, OSError):  # already broken: nothing to release
                connection.close()


class _Flight:
    """One check in progress, and what it found, for the callers that wait for it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None


@cache
def broker_probe(amqp_url: str) -> BrokerProbe:
    """This process's probe for one broker URL, made on first use."""
    quiet_pika()
    return BrokerProbe(amqp_url)


def check_broker(runtime: ServiceRuntime) -> None:
    """Ask the broker through this process's `BrokerProbe` (1 s timeout).

    Raises AMQPError, OSError or TimeoutError when it does not answer.
    """
    broker_probe(str(runtime.settings.amqp_url)).check()


def run_checks(checks: dict[str, Check]) -> tuple[bool, dict[str, Any]]:
    """Run every check in order; return (all up, report).

    The report maps each name to `{"status": "up"|"down", "latency_ms": float}` (rounded to
    0.1 ms), with `"error"` (the exception's class name) when down. Never raises for an
    Exception a check raises.
    """
    report: dict[str, Any] = {}
    healthy = True
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            check()
            report[name] = {"status": "up"}
        except Exception as exc:  # a health check reports any failure, whatever its kind
            healthy = False
            report[name] = {"status": "down", "error": type(exc).__name__}
        report[name]["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return healthy, report


# Short next to any poller's interval (load balancers poll every 5-30 s), long next to
# one request: a busy environment checks at most once per second.
HEALTHY_ANSWER_SECONDS = 1.0


class HealthyAnswer:
    """The last healthy report of one runtime, reused until it is `max_age` seconds old.

    Only healthy reports are kept, so a degraded state is always checked afresh.
    Thread-safe: the local host may serve requests on threads.
    """

    def __init__(self, max_age: float = HEALTHY_ANSWER_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._found: tuple[float, dict[str, Any]] | None = None

    def get(self) -> dict[str, Any] | None:
        """The kept report while it is fresh, else None."""
        with self._lock:
            if self._found is None:
                return None
            found_at, body = self._found
            if self._clock() - found_at >= self._max_age:
                self._found = None
                return None
            return body

    def keep(self, body: dict[str, Any]) -> None:
        """Keep `body` (a healthy report) as found now; `get` answers it for `max_age` seconds."""
        with self._lock:
            self._found = (self._clock(), body)


# By id, with a weak reference to tell a reused id from the same runtime.
_answers: dict[int, tuple[weakref.ref[ServiceRuntime], HealthyAnswer]] = {}
_answers_lock = threading.Lock()


def healthy_answer_of(runtime: ServiceRuntime) -> HealthyAnswer:
    """This process's kept answer for `runtime` (a test process may hold several)."""
    with _answers_lock:
        entry = _answers.get(id(runtime))
        if entry is None or entry[0]() is not runtime:
            entry = _answers[id(runtime)] = (weakref.ref(runtime), HealthyAnswer())
        return entry[1]


def health_report(runtime: ServiceRuntime) -> tuple[int, dict[str, Any]]:
    """(200, body) when every check is up, (503, body) when one is not.

    A healthy body found less than `HEALTHY_ANSWER_SECONDS` ago is answered again.
    """
    kept = healthy_answer_of(runtime)
    body = kept.get()
    if body is not None:
        return 200, body
    status, body = fresh_health_report(runtime)
    if status == 200:
        kept.keep(body)
    return status, body


def fresh_health_report(runtime: ServiceRuntime) -> tuple[int, dict[str, Any]]:
    """Every check, run now."""
    healthy, checks = run_checks({
        "database": lambda: check_database(runtime),
        "cache": lambda: check_cache(runtime),
        "broker": lambda: check_broker(runtime),
    })
    body = {
        "service": runtime.settings.service_name,
        "status": "ok" if healthy else "degraded",
        "checks": checks,
    }
    return (200 if healthy else 503), body


def health_response(runtime: ServiceRuntime) -> Response:
    """200 with every check; when degraded, a 503 problem that still carries every check."""
    status, body = health_report(runtime)
    if status == 200:
        return Response(body=body, status_code=200, headers={"Content-Type": "application/json"})
    failing = sorted(name for name, check in body["checks"].items() if check["status"] != "up")
    raise Problem(status, "Service Unavailable", "degraded: " + ", ".join(failing),
                  slug="degraded", extra={"service": body["service"], "checks": body["checks"]})
