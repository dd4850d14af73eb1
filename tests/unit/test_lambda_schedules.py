"""EventBridge schedules: the Scheduled Event, a catalog's rules, runs through an invoker."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from shop_local.runtime.catalog import AppCatalog, FunctionSpec, ScheduleSpec
from shop_local.runtime.cron import ScheduleExpressionError
from shop_local.runtime.invocation import InvocationResult, InvocationType
from shop_local.runtime.schedules import EventBridgeSchedules, rules_of, scheduled_event


def catalog(*schedules: tuple[str, str]) -> AppCatalog:
    functions = [FunctionSpec(name=f"shop-test-dev-{name}", handler=f"app.{name}",
                              code_dir="/nowhere", resource_name=name) for name, _ in schedules]
    return AppCatalog("shop-test", "dev", "/nowhere", functions, None, [
        ScheduleSpec(f"shop-test-dev-{name}-event", expression, f"shop-test-dev-{name}")
        for name, expression in schedules])


class RecordingInvoker:
    """Records each invocation; fails when told to."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, dict[str, object]]] = []
        self.fail = fail

    async def invoke(self, function_name: str, payload: bytes,
                     invocation_type: InvocationType = "RequestResponse") -> InvocationResult:
        self.calls.append((function_name, json.loads(payload)))
        if self.fail:
            return InvocationResult(b'{"errorMessage": "boom"}', "Unhandled")
        return InvocationResult(b"null")


def test_can_build_an_eventbridge_scheduled_event() -> None:
    event = scheduled_event("shop-order-dev-sweep-event",
                            now=datetime(2024, 5, 1, 12, 30, tzinfo=UTC))
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["time"] == "2024-05-01T12:30:00Z"
    assert event["resources"] == [
        "arn:aws:events:us-east-1:123456789012:rule/shop-order-dev-sweep-event"]
    assert event["detail"] == {} and event["version"] == "0" and event["id"]
    assert event["account"] == "123456789012" and event["region"] == "us-east-1"
    assert scheduled_event("r")["id"] != event["id"]


def test_rules_take_rate_periods_and_cron_schedules() -> None:
    rules = {r.resource_name: r for r in rules_of(
        [catalog(("sweep", "rate(5 minutes)"), ("nightly", "cron(0 3 * * ? *)"))], None)}
    assert rules["sweep"].period_seconds == 300 and rules["sweep"].cron is None
    assert rules["nightly"].period_seconds is None and rules["nightly"].cron is not None
    now = datetime(2024, 5, 1, 2, 59, 30, tzinfo=UTC)
    assert rules["nightly"].seconds_until_next(now) == 30


def test_the_override_replaces_every_period() -> None:
    rules = rules_of([catalog(("sweep", "rate(5 minutes)"), ("nightly", "cron(0 3 * * ? *)"))],
                     0.5)
    assert {r.seconds_until_next(datetime.now(UTC)) for r in rules} == {0.5}


def test_an_expression_eventbridge_refuses_is_refused() -> None:
    with pytest.raises(ScheduleExpressionError, match="shop-test-dev-bad-event"):
        rules_of([catalog(("bad", "every 5 minutes"))], None)


def test_runs_keep_coming_after_a_failed_run() -> None:
    invoker = RecordingInvoker(fail=True)

    async def run() -> None:
        schedules = EventBridgeSchedules([catalog(("sweep", "rate(5 minutes)"))], invoker,
                                         override=0.01)
        schedules.start()
        for _ in range(500):
            if len(invoker.calls) >= 3:
                break
            await asyncio.sleep(0.01)
        await schedules.stop()

    asyncio.run(run())
    assert len(invoker.calls) >= 3
    function, event = invoker.calls[0]
    assert function == "shop-test-dev-sweep"
    assert event["detail-type"] == "Scheduled Event"
    assert event["resources"] == [
        "arn:aws:events:us-east-1:123456789012:rule/shop-test-dev-sweep-event"]
