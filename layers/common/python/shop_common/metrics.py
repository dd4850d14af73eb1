"""The shop's Prometheus metrics, created on first use.

Their names and labels are a contract: the recording and alerting rules
(prometheus/rules/), the console (prometheus/consoles/shop.html) and the README's
metrics list query them by name, so renaming one breaks those. Every service
exports `http_requests_total{service,route,method,status}` and
`http_request_duration_seconds`; the product service `cache_requests_total{result}`,
`orders_placed_total` and `order_conflicts_total`; the communication service
`emails_sent_total{kind}` and `emails_failed_total{kind}`; the services with an
outbox `outbox_pending`; and non-HTTP functions `invocations_total{function,outcome}`.

Metrics are created lazily, never at import: in multiprocess mode creating one
touches files, and `chalice package` and the tests import the apps with no disk
set up. Call the helpers below; do not create metrics elsewhere.

Multiprocess mode is chosen by `PROMETHEUS_MULTIPROC_DIR` when prometheus_client
is imported, so the variable must be in the process's environment from its
start (the local stack sets it per program). Without it the metrics live in the
default in-memory registry, which is what unit tests and a bare Lambda get.
"""

from __future__ import annotations

import contextvars
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache, lru_cache, wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

from prometheus_client import Counter, Gauge, Histogram

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# Latency buckets in seconds: fine below 100 ms where most routes answer, and up
# to 10 s so that a password hash or a slow lock wait still lands in a bucket.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.4, 0.6, 1.0,
                    1.5, 2.5, 5.0, 10.0)

P = ParamSpec("P")
R = TypeVar("R")


@cache
def _files_ready() -> None:
    """Make sure the multiprocess directory exists before the first metric writes to it."""
    directory = os.environ.get(MULTIPROC_DIR_VARIABLE)
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)


@cache
def _http_requests() -> Counter:
    _files_ready()
    return Counter("http_requests_total", "HTTP requests by route and status",
                   ["service", "route", "method", "status"])


@cache
def _http_duration() -> Histogram:
    _files_ready()
    return Histogram("http_request_duration_seconds", "HTTP request duration by route",
                     ["service", "route", "method"], buckets=DURATION_BUCKETS)


@cache
def _process_up() -> Gauge:
    _files_ready()
    # livesum: the sidecar removes a dead process's file, so this counts live processes.
    return Gauge("shop_process_up", "Live processes of the service", ["service"],
                 multiprocess_mode="livesum")


@cache
def _cache_requests() -> Counter:
    _files_ready()
    return Counter("cache_requests_total", "Cache lookups by result",
                   ["service", "cache", "result"])


@cache
def _orders_placed() -> Counter:
    _files_ready()
    return Counter("orders_placed_total", "Orders placed successfully", ["service"])


@cache
def _order_conflicts() -> Counter:
    _files_ready()
    return Counter("order_conflicts_total", "Orders refused: out of stock or locked",
                   ["service", "reason"])


@cache
def _emails_sent() -> Counter:
    _files_ready()
    return Counter("emails_sent_total", "Emails handed to the mail server", ["service", "kind"])


@cache
def _emails_failed() -> Counter:
    _files_ready()
    return Counter("emails_failed_total", "Emails that could not be sent", ["service", "kind"])


@cache
def _outbox_pending() -> Gauge:
    _files_ready()
    return Gauge("outbox_pending", "Outbox rows not yet published", ["service"],
                 multiprocess_mode="livemax")


@cache
def _outbox_oldest_age() -> Gauge:
    _files_ready()
    return Gauge("outbox_oldest_pending_age_seconds", "Age of the oldest unpublished outbox row",
                 ["service"], multiprocess_mode="livemax")


@cache
def _invocations() -> Counter:
    _files_ready()
    return Counter("invocations_total", "Non-HTTP function invocations",
                   ["service", "function", "outcome"])


@cache
def _invocation_duration() -> Histogram:
    _files_ready()
    return Histogram("invocation_duration_seconds", "Non-HTTP function duration",
                     ["service", "function"], buckets=DURATION_BUCKETS)


def service_of_app(app_name: str) -> str:
    """The service a Chalice app belongs to: `shop-user` → `user`."""
    return app_name.removeprefix("shop-")


def announce_process(service: str) -> None:
    """Mark this process as a live instance of `service`; its metrics sidecar pushes only then.

    Call once when the process starts serving. Safe to call again.
    """
    _announce(service, os.getpid())


@cache
def _announce(service: str, _pid: int) -> None:
    # Keyed by pid so that a forked child announces itself too.
    _process_up().labels(service).set(1)


def http_request(service: str, route: str, method: str, status: int, seconds: float) -> None:
    """One HTTP request; `route` is the route template, never the raw path (cardinality)."""
    announce_process(service)
    count, duration = _http_series(service, route, method, status)
    count.inc()
    duration.observe(seconds)


# Every request reaches this: `labels()` takes a lock and builds its key each time,
# so the pair of series is looked up once per label set. Bounded, although route
# templates, methods and statuses are few. A series kept across a fork is safe:
# prometheus_client moves its values to the new pid's file on their first write.
@lru_cache(maxsize=1024)
def _http_series(service: str, route: str, method: str,
                 status: int) -> tuple[Counter, Histogram]:
    return (_http_requests().labels(service, route, method, str(status)),
            _http_duration().labels(service, route, method))


def cache_request(service: str, result: str, cache_name: str = "products") -> None:
    """`result` is "hit", "miss" or "error"."""
    _cache_requests().labels(service, cache_name, result).inc()


def order_placed(service: str) -> None:
    """Count one order placed (`orders_placed_total{service}`)."""
    _orders_placed().labels(service).inc()


def order_conflict(service: str, reason: str) -> None:
    """Count one order refused (`order_conflicts_total{service,reason}`).

    `reason` as the product service passes it: "out_of_stock", "locked", "rejected" or
    "unavailable".
    """
    _order_conflicts().labels(service, reason).inc()


def email_sent(service: str, kind: str) -> None:
    """Count one email handed to the mail server (`emails_sent_total{service,kind}`)."""
    _emails_sent().labels(service, kind).inc()


def email_failed(service: str, kind: str) -> None:
    """Count one email that could not be sent (`emails_failed_total{service,kind}`)."""
    _emails_failed().labels(service, kind).inc()


def set_outbox_pending(service: str, count: int, oldest_age_seconds: float | None = None) -> None:
    """Report the outbox backlog; pass the oldest row's age so a stuck relay can alert."""
    _outbox_pending().labels(service).set(count)
    if oldest_age_seconds is not None or count == 0:
        _outbox_oldest_age().labels(service).set(oldest_age_seconds or 0.0)


def invocation(service: str, function: str, outcome: str, seconds: float) -> None:
    """`outcome` is "success" or "error"."""
    _invocations().labels(service, function, outcome).inc()
    _invocation_duration().labels(service, function).observe(seconds)


# The invocation being observed in this context, so that an inner observer of the
# same function (the function's own decorator inside the local schedule runner's
# wrapper) does not count it twice.
_observing: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "shop_observing_invocation", default=None
)


@contextmanager
def observe_invocation(service: str, function: str) -> Iterator[None]:
    """Count one run of a non-HTTP function and time it; an exception is an "error"."""
    key = (service, function)
    if _observing.get() == key:
        yield
        return
    announce_process(service)
    token = _observing.set(key)
    started = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "success"
    finally:
        _observing.reset(token)
        invocation(service, function, outcome, time.perf_counter() - started)


def observed(
    service: str, function: str | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator form of `observe_invocation`; put it under Chalice's `@app.on_…` decorator."""

    def decorate(handler: Callable[P, R]) -> Callable[P, R]:
        name = function or handler.__name__

        @wraps(handler)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with observe_invocation(service, name):
                return handler(*args, **kwargs)

        return run

    return decorate
