"""EventBridge schedules through the Lambda service: a rule fires its function in an environment."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from shop_local.runtime.lambda_service import LambdaService
from shop_local.runtime.schedules import EventBridgeSchedules
from tests.integration.runtime.lambda_support import PREFIX, probe_catalog, run_with_service

pytestmark = pytest.mark.timeout(180)


def test_a_rule_fires_at_its_overridden_rate_with_the_scheduled_event(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "ticks.jsonl"
    monkeypatch.setenv("PROBE_OUT", str(out))
    monkeypatch.setenv("SHOP_LOCAL_SCHEDULE_SECONDS", "0.5")
    catalog = probe_catalog()

    async def body(service: LambdaService) -> None:
        schedules = EventBridgeSchedules([catalog], service)
        assert [r.period_seconds for r in schedules.rules] == [0.5]  # rate(5 minutes), overridden
        schedules.start()
        try:
            for _ in range(600):
                if out.exists() and len(out.read_text().splitlines()) >= 3:
                    break
                await asyncio.sleep(0.1)
        finally:
            await schedules.stop()

    run_with_service(catalog, tmp_path / "logs", body)
    ticks = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(ticks) >= 3
    for tick in ticks:
        event = tick["event"]
        assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
        assert event["resources"] == [
            "arn:aws:events:us-east-1:123456789012:rule/lambda-probe-dev-tick-event"]
        assert event["account"] == "123456789012" and event["region"] == "us-east-1"
        assert tick["function"] == PREFIX + "tick"
        assert tick["pid"] != os.getpid()  # in an execution environment, not this process
    assert len({tick["event"]["id"] for tick in ticks}) == len(ticks)
    assert len({tick["pid"] for tick in ticks}) == 1  # one warm environment, reused
