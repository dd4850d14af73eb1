"""EventBridge schedules: each rule of the catalog invokes its function through the Lambda service.

Stock `chalice local` ignores `@app.schedule`. Here every rule Chalice would deploy
(`rate(...)` or `cron(...)`, see `cron`) fires at its times and hands its function
EventBridge's "Scheduled Event" (`resources` = the rule's ARN) in an execution
environment of that function, the same invoke path as HTTP and the MQ mappings.

`SHOP_LOCAL_SCHEDULE_SECONDS` replaces every rule's period with that many seconds
(for tests and demos). A rule's runs never overlap here: a run that outlasts the
period delays the next (EventBridge invokes asynchronously and would overlap them).
Each run is counted in `invocations_total{service,function,outcome}` as Lambda's
platform counts invocations, so a scheduled function need not count itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from shop_common.metrics import invocation as count_invocation
from shop_common.metrics import service_of_app
from shop_common.setting_values import seconds_setting
from shop_local.aws_local import LOCAL_ACCOUNT, LOCAL_REGION
from shop_local.runtime.catalog import AppCatalog, ScheduleSpec, rule_arn
from shop_local.runtime.cron import (
    CronSchedule,
    ScheduleExpressionError,
    parse_cron,
    rate_seconds,
)
from shop_local.runtime.invocation import InvokeError, Invoker

log = logging.getLogger("shop.schedules")

OVERRIDE_VARIABLE = "SHOP_LOCAL_SCHEDULE_SECONDS"


def scheduled_event(rule: str, now: datetime | None = None) -> dict[str, object]:
    """EventBridge's event for a scheduled rule
    (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-events.html)."""
    moment = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT,
        "time": moment,
        "region": LOCAL_REGION,
        "resources": [rule_arn(rule)],
        "detail": {},
    }


def override_seconds(environ: Mapping[str, str] | None = None) -> float | None:
    """`SHOP_LOCAL_SCHEDULE_SECONDS` in seconds, or None when it is unset or blank.

    Read from `environ` (default: the process's). SettingsError when it is not a number of
    seconds more than 0.
    """
    env = environ if environ is not None else os.environ
    if not env.get(OVERRIDE_VARIABLE, "").strip():
        return None
    return seconds_setting(env, OVERRIDE_VARIABLE, 0.0)


@dataclass(frozen=True)
class Rule:
    """One schedule with its timing: a fixed period (rate or override) or a cron schedule."""

    spec: ScheduleSpec
    app_name: str
    resource_name: str
    period_seconds: float | None
    cron: CronSchedule | None

    def seconds_until_next(self, now: datetime) -> float:
        """Seconds (>= 0) to wait from `now` (an aware datetime) until the next run.

        The fixed period, or the time to the cron schedule's next firing.
        """
        if self.period_seconds is not None:
            return self.period_seconds
        assert self.cron is not None
        return max(0.0, (self.cron.next_after(now) - now).total_seconds())


def rules_of(catalogs: Iterable[AppCatalog], override: float | None) -> list[Rule]:
    """The rules to run; raises ScheduleExpressionError for an expression EventBridge refuses."""
    found = []
    for catalog in catalogs:
        for spec in catalog.schedules:
            function = catalog.function(spec.function)
            period = rate_seconds(spec.expression)
            cron = None if period is not None else parse_cron(spec.expression)
            if period is None and cron is None:
                raise ScheduleExpressionError(f"{spec.rule}: {spec.expression!r} is neither "
                                              "rate(...) nor cron(...)")
            found.append(Rule(spec, catalog.app_name,
                              function.resource_name if function else spec.function,
                              override if override is not None else period, cron))
    return found


class EventBridgeSchedules:
    """Fires the catalogs' rules through `invoker` while started (on the invoker's loop)."""

    def __init__(self, catalogs: Iterable[AppCatalog], invoker: Invoker,
                 override: float | None = None, use_environment_override: bool = True) -> None:
        if override is None and use_environment_override:
            override = override_seconds()
        self.rules = rules_of(catalogs, override)
        self._invoker = invoker
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start one task per rule on the running loop, firing that rule at its times."""
        loop = asyncio.get_running_loop()
        for rule in self.rules:
            self._tasks.append(loop.create_task(self._run(rule), name=f"rule-{rule.spec.rule}"))
            log.info("schedule started", extra={"rule": rule.spec.rule,
                                                "expression": rule.spec.expression,
                                                "every_seconds": rule.period_seconds})

    async def stop(self) -> None:
        """Cancel every rule's task and wait for them (one awaiting a run stops awaiting it)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _run(self, rule: Rule) -> None:
        while True:
            await asyncio.sleep(rule.seconds_until_next(datetime.now(UTC)))
            await self.fire(rule)

    async def fire(self, rule: Rule) -> bool:
        """One run of the rule; True when the function succeeded."""
        started = time.perf_counter()
        payload = json.dumps(scheduled_event(rule.spec.rule)).encode()
        try:
            result = await self._invoker.invoke(rule.spec.function, payload)
            ok = result.function_error is None
            if not ok:
                log.error("scheduled function failed", extra={
                    "rule": rule.spec.rule, "function": rule.spec.function,
                    "error": result.payload[:2000].decode(errors="replace")})
        except InvokeError as exc:
            ok = False
            log.error("scheduled function not invoked", extra={
                "rule": rule.spec.rule, "function": rule.spec.function, "error": str(exc)})
        count_invocation(service_of_app(rule.app_name), rule.resource_name,
                         "success" if ok else "error", time.perf_counter() - started)
        return ok

