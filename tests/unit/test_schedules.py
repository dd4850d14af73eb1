"""The schedule emulator: rate parsing, the EventBridge event, and the runner."""

from __future__ import annotations

import threading
import types
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.app import Chalice, Cron, Rate

from shop_local.runtime.schedules import (
    ScheduledFunction,
    ScheduleRunner,
    interval_of,
    scheduled_event,
    scheduled_functions,
)


@pytest.mark.parametrize(("expression", "seconds"), [
    (Rate(5, unit=Rate.MINUTES), 300),
    (Rate(1, unit=Rate.HOURS), 3600),
    (Rate(2, unit=Rate.DAYS), 172800),
    ("rate(5 minutes)", 300),
    ("rate(1 minute)", 60),
    ("rate(1 hour)", 3600),
    (" rate(3 days) ", 259200),
])
def test_can_read_rate_expressions(expression: str | Rate, seconds: float) -> None:
    assert interval_of(expression) == seconds


@pytest.mark.parametrize("expression", [
    Cron(0, 10, "*", "*", "?", "*"), "cron(0 10 * * ? *)", "rate(5 weeks)", "every 5 minutes",
])
def test_cron_and_unknown_expressions_are_not_emulated(expression: str | Cron) -> None:
    assert interval_of(expression) is None


def test_can_build_an_eventbridge_scheduled_event() -> None:
    event = scheduled_event("shop-order-sweep", now=datetime(2024, 5, 1, 12, 30, tzinfo=UTC))
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["time"] == "2024-05-01T12:30:00Z"
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/shop-order-sweep"]
    assert event["detail"] == {} and event["version"] == "0" and event["id"]
    assert scheduled_event("r")["id"] != event["id"]


def build_scheduled_app() -> tuple[Chalice, types.ModuleType]:
    app = Chalice(app_name="shop-test")
    module = types.ModuleType("app")

    @app.schedule(Rate(5, unit=Rate.MINUTES))
    def sweep(event: Any) -> None: ...

    @app.schedule("rate(1 hour)")
    def relay(event: Any) -> None: ...

    @app.schedule(Cron(0, 10, "*", "*", "?", "*"))
    def nightly(event: Any) -> None: ...

    module.sweep, module.relay, module.nightly = sweep, relay, nightly  # type: ignore[attr-defined]
    return app, module


def test_can_find_an_apps_rate_scheduled_functions() -> None:
    app, module = build_scheduled_app()
    found = {f.name: f for f in scheduled_functions(app, module)}
    assert set(found) == {"sweep", "relay"}  # the cron one is skipped
    assert found["sweep"].interval_seconds == 300 and found["relay"].interval_seconds == 3600
    assert found["sweep"].handler is module.sweep  # type: ignore[attr-defined]


def test_can_shorten_every_interval_for_local_runs() -> None:
    app, module = build_scheduled_app()
    assert {f.interval_seconds for f in scheduled_functions(app, module, 0.5)} == {0.5}


def test_runner_keeps_invoking_after_a_failed_run() -> None:
    events: list[dict[str, Any]] = []
    enough = threading.Event()

    def handler(event: dict[str, Any], context: Any) -> None:
        events.append(event)
        if len(events) >= 3:
            enough.set()
        raise RuntimeError("every run fails")

    runner = ScheduleRunner([ScheduledFunction("sweep", 0.01, handler)], "shop-test")
    runner.start()
    try:
        assert enough.wait(10)
    finally:
        runner.stop()
    assert events[0]["resources"][0].endswith("rule/shop-test-sweep")
    assert events[0]["detail-type"] == "Scheduled Event"
