"""EventBridge schedule expressions: rate periods and AWS's six-field cron, when each fires."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shop_local.runtime.cron import ScheduleExpressionError, parse_cron, rate_seconds


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fires(expression: str, after: str, count: int = 1) -> list[str]:
    schedule = parse_cron(expression)
    assert schedule is not None
    found, moment = [], at(after)
    for _ in range(count):
        moment = schedule.next_after(moment)
        found.append(moment.strftime("%Y-%m-%d %H:%M"))
    return found


@pytest.mark.parametrize(("expression", "seconds"), [
    ("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(1 hour)", 3600),
    ("rate(2 hours)", 7200), ("rate(1 day)", 86400), (" rate(3 days) ", 259200),
])
def test_can_read_rate_expressions(expression: str, seconds: float) -> None:
    assert rate_seconds(expression) == seconds


@pytest.mark.parametrize("expression", ["cron(0 10 * * ? *)", "rate(5 weeks)", "every 5 min"])
def test_other_expressions_are_not_rates(expression: str) -> None:
    assert rate_seconds(expression) is None


def test_zero_rate_is_refused() -> None:
    with pytest.raises(ScheduleExpressionError):
        rate_seconds("rate(0 minutes)")


def test_can_fire_every_day_at_ten() -> None:
    assert fires("cron(0 10 * * ? *)", "2024-05-01 09:59:30", 2) == [
        "2024-05-01 10:00", "2024-05-02 10:00"]
    assert fires("cron(0 10 * * ? *)", "2024-05-01 10:00:00") == ["2024-05-02 10:00"]


def test_can_fire_every_fifteen_minutes_on_weekdays() -> None:
    # 2024-05-03 is a Friday: the next firings after its last quarter are Monday's.
    assert fires("cron(0/15 * ? * MON-FRI *)", "2024-05-03 23:50", 2) == [
        "2024-05-06 00:00", "2024-05-06 00:15"]


def test_can_read_lists_ranges_and_names() -> None:
    assert fires("cron(5,35 8-9 ? JAN,JUN 2-3 2024)", "2024-01-01 00:00", 5) == [
        "2024-01-01 08:05", "2024-01-01 08:35", "2024-01-01 09:05", "2024-01-01 09:35",
        "2024-01-02 08:05"]


def test_can_fire_on_the_last_day_of_the_month() -> None:
    assert fires("cron(0 12 L * ? *)", "2024-02-01 00:00", 2) == [
        "2024-02-29 12:00", "2024-03-31 12:00"]


def test_can_fire_on_the_nearest_and_last_weekdays() -> None:
    # 2024-06-15 is a Saturday (-> Friday 14th); 2024-06-30 a Sunday (-> Friday 28th).
    assert fires("cron(0 9 15W * ? *)", "2024-06-01 00:00") == ["2024-06-14 09:00"]
    assert fires("cron(0 9 LW * ? *)", "2024-06-01 00:00") == ["2024-06-28 09:00"]


def test_can_fire_on_the_nth_and_last_weekday_of_a_month() -> None:
    assert fires("cron(0 18 ? * 6#3 *)", "2024-05-01 00:00") == ["2024-05-17 18:00"]  # Friday
    assert fires("cron(0 18 ? * 5L *)", "2024-05-01 00:00") == ["2024-05-30 18:00"]  # Thursday


def test_a_past_year_never_fires() -> None:
    with pytest.raises(ScheduleExpressionError):
        fires("cron(0 0 1 1 ? 1999)", "2024-01-01 00:00")


@pytest.mark.parametrize(("expression", "field"), [
    ("cron(0 10 * * *)", "6 fields"),
    ("cron(0 10 * * * *)", "exactly one"),
    ("cron(0 10 ? * ? *)", "exactly one"),
    ("cron(60 10 * * ? *)", "minutes"),
    ("cron(0 24 * * ? *)", "hours"),
    ("cron(0 10 32 * ? *)", "day-of-month"),
    ("cron(0 10 ? * 8 *)", "day-of-week"),
    ("cron(0 10 * 13 ? *)", "month"),
    ("cron(0 10 * FOO ? *)", "month"),
    ("cron(0/0 10 * * ? *)", "minutes"),
])
def test_invalid_cron_expressions_name_the_field(expression: str, field: str) -> None:
    with pytest.raises(ScheduleExpressionError, match=field):
        parse_cron(expression)
