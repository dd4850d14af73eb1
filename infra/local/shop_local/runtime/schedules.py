"""Runs a Chalice app's `@app.schedule` functions at their declared rate.

Stock `chalice local` ignores scheduled functions. Here each one gets a thread that
invokes the handler with an EventBridge "Scheduled Event", one call at a time, as
EventBridge + Lambda would (a slow run delays the next one instead of overlapping).
Each run is counted in `invocations_total{function,outcome}`.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from chalice.app import Chalice, Rate, ScheduledEventConfig, ScheduleExpression

from shop_common.metrics import observe_invocation, service_of_app
from shop_local.aws_local import LOCAL_ACCOUNT, LOCAL_REGION

log = logging.getLogger("shop.schedules")

UNIT_SECONDS = {"MINUTES": 60, "HOURS": 3600, "DAYS": 86400}
RATE_EXPRESSION = re.compile(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)")


@dataclass(frozen=True)
class ScheduledFunction:
    name: str
    interval_seconds: float
    handler: Callable[[dict[str, Any], Any], Any]


def interval_of(expression: str | ScheduleExpression) -> float | None:
    """Seconds between runs of a rate expression; None for cron (not emulated)."""
    if isinstance(expression, Rate):
        return float(expression.value * UNIT_SECONDS[expression.unit])
    if isinstance(expression, str):
        match = RATE_EXPRESSION.fullmatch(expression.strip())
        if match:
            unit = match.group(2).upper().rstrip("S") + "S"
            return float(int(match.group(1)) * UNIT_SECONDS[unit])
    return None


def scheduled_event(rule_name: str, now: datetime | None = None) -> dict[str, Any]:
    moment = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT,
        "time": moment,
        "region": LOCAL_REGION,
        "resources": [f"arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT}:rule/{rule_name}"],
        "detail": {},
    }


def scheduled_functions(
    app: Chalice, app_module: ModuleType, override_seconds: float | None = None
) -> list[ScheduledFunction]:
    found = []
    for source in app.event_sources:
        if not isinstance(source, ScheduledEventConfig):
            continue
        interval = interval_of(source.schedule_expression)
        if interval is None:
            log.warning("cron schedule of %s is not emulated locally", source.name)
            continue
        handler_name = source.handler_string.rsplit(".", 1)[-1]
        found.append(ScheduledFunction(
            name=source.name,
            interval_seconds=override_seconds or interval,
            handler=getattr(app_module, handler_name),
        ))
    return found


class ScheduleRunner:
    def __init__(self, functions: list[ScheduledFunction], app_name: str) -> None:
        self._functions = functions
        self._app_name = app_name
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for function in self._functions:
            thread = threading.Thread(
                target=self._run, args=(function,), name=f"schedule-{function.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
            log.info("schedule started", extra={"function": function.name,
                                                "every_seconds": function.interval_seconds})

    def stop(self) -> None:
        self._stop.set()

    def _run(self, function: ScheduledFunction) -> None:
        rule = f"{self._app_name}-{function.name}"
        while not self._stop.wait(function.interval_seconds):
            try:
                # Counted here so every scheduled function is observed, even one
                # whose code does not count itself (nested observers count once).
                with observe_invocation(service_of_app(self._app_name), function.name):
                    function.handler(scheduled_event(rule), None)
            except Exception:  # a failed run is logged; the next run still happens
                log.exception("scheduled function failed", extra={"function": function.name})
