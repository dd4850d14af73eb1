"""`/health` answers a healthy report again for a moment, never a degraded one."""

from __future__ import annotations

from typing import Any

import pytest

from shop_common import health
from shop_common.health import HealthyAnswer


def test_a_healthy_report_is_kept_until_it_is_max_age_old() -> None:
    seconds = [100.0]
    answer = HealthyAnswer(max_age=1.0, clock=lambda: seconds[0])
    answer.keep({"status": "ok"})
    seconds[0] = 100.9
    assert answer.get() == {"status": "ok"}
    seconds[0] = 101.0
    assert answer.get() is None


class FakeRuntime:
    """Stands in for a ServiceRuntime: health_report only uses its identity here."""


def checks_answering(monkeypatch: pytest.MonkeyPatch,
                     answers: list[tuple[int, dict[str, Any]]]) -> list[int]:
    """Make each fresh check return the next answer; returns the list of calls made."""
    calls: list[int] = []

    def fresh(_runtime: object) -> tuple[int, dict[str, Any]]:
        calls.append(1)
        return answers[len(calls) - 1]

    monkeypatch.setattr(health, "fresh_health_report", fresh)
    return calls


def test_can_answer_a_recent_healthy_report_without_checking_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = checks_answering(monkeypatch, [(200, {"status": "ok"})])
    runtime: Any = FakeRuntime()
    assert health.health_report(runtime) == (200, {"status": "ok"})
    assert health.health_report(runtime) == (200, {"status": "ok"})
    assert len(calls) == 1


def test_a_degraded_report_is_checked_again_on_every_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = checks_answering(monkeypatch, [(503, {"status": "degraded"}),
                                           (200, {"status": "ok"})])
    runtime: Any = FakeRuntime()
    assert health.health_report(runtime)[0] == 503
    assert health.health_report(runtime)[0] == 200  # recovered: seen at once
    assert len(calls) == 2


def test_each_runtime_keeps_its_own_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = checks_answering(monkeypatch, [(200, {"service": "a"}), (200, {"service": "b"})])
    first: Any = FakeRuntime()
    second: Any = FakeRuntime()
    assert health.health_report(first)[1] == {"service": "a"}
    assert health.health_report(second)[1] == {"service": "b"}
    assert len(calls) == 2
