"""The shop's Prometheus metrics (names fixed by DESIGN.md §3), created on first use.

Metrics are created lazily, never at import: in multiprocess mode creating one
touches files, and `chalice package` and the tests import the apps with no disk
set up. Call the helpers below; do not create metrics elsewhere.
"""

from __future__ import annotations

from functools import cache

from prometheus_client import Counter, Gauge, Histogram


@cache
def _cache_requests() -> Counter:
    return Counter("cache_requests_total", "Cache lookups by result", ["service", "cache", "result"])


@cache
def _orders_placed() -> Counter:
    return Counter("orders_placed_total", "Orders placed successfully", ["service"])


@cache
def _order_conflicts() -> Counter:
    return Counter("order_conflicts_total", "Orders refused: out of stock or locked", ["service", "reason"])


@cache
def _emails_sent() -> Counter:
    return Counter("emails_sent_total", "Emails handed to the mail server", ["service", "kind"])


@cache
def _emails_failed() -> Counter:
    return Counter("emails_failed_total", "Emails that could not be sent", ["service", "kind"])


@cache
def _outbox_pending() -> Gauge:
    return Gauge("outbox_pending", "Outbox rows not yet published", ["service"],
                 multiprocess_mode="livemax")


@cache
def _invocations() -> Counter:
    return Counter("invocations_total", "Non-HTTP function invocations", ["service", "function", "outcome"])


@cache
def _invocation_duration() -> Histogram:
    return Histogram("invocation_duration_seconds", "Non-HTTP function duration", ["service", "function"])


def cache_request(service: str, result: str, cache_name: str = "products") -> None:
    """`result` is "hit", "miss" or "error"."""
    _cache_requests().labels(service, cache_name, result).inc()


def order_placed(service: str) -> None:
    _orders_placed().labels(service).inc()


def order_conflict(service: str, reason: str) -> None:
    _order_conflicts().labels(service, reason).inc()


def email_sent(service: str, kind: str) -> None:
    _emails_sent().labels(service, kind).inc()


def email_failed(service: str, kind: str) -> None:
    _emails_failed().labels(service, kind).inc()


def set_outbox_pending(service: str, count: int) -> None:
    _outbox_pending().labels(service).set(count)


def invocation(service: str, function: str, outcome: str, seconds: float) -> None:
    """`outcome` is "success" or "error"."""
    _invocations().labels(service, function, outcome).inc()
    _invocation_duration().labels(service, function).observe(seconds)
