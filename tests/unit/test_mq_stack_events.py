"""What `shop up` and `shop status` get from the events part of the stack (no processes run)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from shop_local.runtime import mq_status
from shop_local.stack import events as stack_events

ENV = {"SHOP_AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/shop", "SHOP_SMTP_PORT": "2525"}


def test_can_start_the_sink_and_one_emulator_per_app() -> None:
    sink, emulator = stack_events.programs(ENV)
    assert sink.name == "smtp-sink"
    assert sink.command[-6:] == ["--host", "127.0.0.1", "--port", "2525", "--maildir",
                                 str(stack_events.smtp_sink.MAILDIR)]
    assert emulator.name == "mq-emulator"
    assert emulator.command[-4:] == [
        "-m", "shop_local.runtime.mq_emulator", "--app", "communication"]
    assert emulator.environment["PROMETHEUS_MULTIPROC_DIR"].endswith("metrics/communication")


def test_can_report_the_sink_and_the_emulator() -> None:
    rows = {c.name: c.address for c in stack_events.components(ENV)}
    assert rows["SMTP sink"] == "127.0.0.1:2525"
    assert rows["MQ emulator (communication)"].endswith("@ shop")


@pytest.mark.parametrize("states, updated_ago, health", [
    (["consuming", "consuming"], 1, "up"),
    (["consuming", "reconnecting"], 1, "degraded: not consuming for order_invoice"),
    (["consuming", "consuming"], 60, "down"),
])
def test_can_tell_emulator_health_from_its_status_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, states: list[str], updated_ago: float,
    health: str,
) -> None:
    status = tmp_path / "status.json"
    status.write_text(json.dumps({"updated_at": time.time() - updated_ago, "mappings": [
        {"function": f, "state": s} for f, s in zip(["signup_email", "order_invoice"], states,
                                                  strict=True)]}))
    monkeypatch.setattr(mq_status, "status_file_for", lambda app: status)
    assert stack_events.emulator_health("communication") == health


def test_can_report_a_missing_status_file_as_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mq_status, "status_file_for", lambda app: tmp_path / "missing.json")
    assert stack_events.emulator_health("communication") == "down"


def test_shop_status_reads_what_the_emulator_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status = tmp_path / "run" / "mq-emulator-communication.json"
    monkeypatch.setattr(mq_status, "status_file_for", lambda app: status)
    mq_status.write_status(status, "communication", [
        {"function": "signup_email", "state": "consuming"},
        {"function": "order_invoice", "state": "connecting"}])
    assert stack_events.emulator_health("communication") == (
        "degraded: not consuming for order_invoice")
    assert mq_status.read_status("communication")["pid"] == os.getpid()  # type: ignore[index]
