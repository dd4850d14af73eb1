"""EventBridge schedule expressions, `rate(...)` and AWS's six-field `cron(...)`: when they fire.

Syntax as https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html:
`cron(minutes hours day-of-month month day-of-week year)`, in UTC, with `, - * /`
everywhere, `?` in exactly one of day-of-month and day-of-week, `L` (last day of the
month; `5L` the last Thursday), `W` (`15W` the weekday nearest the 15th, `LW` the last
weekday) and `#` (`6#3` the third Friday). Months are 1-12 or JAN-DEC, week days 1-7
or SUN-SAT with 1 = Sunday, years 1970-2199.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

RATE = re.compile(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)")
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
MONTHS = {name: n for n, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
WEEKDAYS = {name: n for n, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}
SEARCH_YEARS = 5


class ScheduleExpressionError(ValueError):
    """The expression is not a valid EventBridge rate or cron expression; the message says why."""


def rate_seconds(expression: str) -> float | None:
    """Seconds between runs of `rate(N unit)`; None when the expression is not a rate."""
    match = RATE.fullmatch(expression.strip())
    if match is None:
        return None
    value, unit = int(match.group(1)), match.group(2).rstrip("s")
    if value < 1:
        raise ScheduleExpressionError(f"{expression}: the rate must be at least 1")
    return float(value * UNIT_SECONDS[unit])


def _number(text: str, names: dict[str, int], field: str) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise ScheduleExpressionError(f"{field}: {text!r} is not a number")
    return int(text)


def _values(text: str, low: int, high: int, field: str,
            names: dict[str, int] | None = None) -> frozenset[int]:
    """The values a field of `, - * /` covers, checked against [low, high]."""
    found: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleExpressionError(f"{field}: bad increment {step_text!r}")
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _number(first, names or {}, field), _number(last, names or {}, field)
        else:
            start = _number(part, names or {}, field)
            end = high if step > 1 else start
        for value in (start, end):
            if not low <= value <= high:
                raise ScheduleExpressionError(f"{field}: {value} is outside {low}-{high}")
        if start > end:
            raise ScheduleExpressionError(f"{field}: range {part!r} runs backwards")
        found.update(range(start, end + 1, step))
    return frozenset(found)


@dataclass(frozen=True)
class DayOfMonth:
    """The day-of-month field of a cron expression: listed `days`, or `L`, `15W` or `LW`."""

    days: frozenset[int] = frozenset()
    last: bool = False  # L
    nearest_weekday: int | None = None  # 15W
    last_weekday: bool = False  # LW

    def matches(self, day: date) -> bool:
        """Whether `day` is one the field names.

        `15W` is the weekday (Monday to Friday) nearest the 15th without leaving the month,
        as EventBridge's cron expressions define the `W` wildcard.
        """
        days_in_month = calendar.monthrange(day.year, day.month)[1]
        if self.last:
            return day.day == days_in_month
        if self.last_weekday:
            last = date(day.year, day.month, days_in_month)
            while last.weekday() >= 5:
                last -= timedelta(days=1)
            return day == last
        if self.nearest_weekday is not None:
            target = date(day.year, day.month, min(self.nearest_weekday, days_in_month))
            if target.weekday() == 5:  # Saturday: the Friday before, unless that leaves the month
                target = target - timedelta(days=1) if target.day > 1 else target + timedelta(2)
            elif target.weekday() == 6:  # Sunday: the Monday after, unless that leaves the month
                target = (target + timedelta(days=1) if target.day < days_in_month
                          else target - timedelta(days=2))
            return day == target
        return day.day in self.days


@dataclass(frozen=True)
class DayOfWeek:
    """The day-of-week field of a cron expression, 1 = Sunday … 7 = Saturday.

    Listed `days`, or `5L` (the last Thursday of the month) or `6#3` (the third Friday).
    """

    days: frozenset[int] = frozenset()  # 1 = Sunday
    last_of_month: int | None = None  # 5L: the last Thursday
    nth: tuple[int, int] | None = None  # (6, 3): the third Friday

    def matches(self, day: date) -> bool:
        """Whether `day` is one the field names (`5L` and `6#3` count within its month)."""
        weekday = (day.isoweekday() % 7) + 1  # Sunday 1 ... Saturday 7
        if self.last_of_month is not None:
            return weekday == self.last_of_month and (
                day + timedelta(days=7)).month != day.month
        if self.nth is not None:
            return weekday == self.nth[0] and (day.day - 1) // 7 + 1 == self.nth[1]
        return weekday in self.days


@dataclass(frozen=True)
class CronSchedule:
    """A parsed `cron(...)`; `next_after(moment)` is the first firing strictly after it."""

    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    day_of_month: DayOfMonth | None  # None: `?`
    day_of_week: DayOfWeek | None  # None: `?`

    def day_matches(self, day: date) -> bool:
        """Whether the schedule fires on some minute of `day`.

        Its year and month must be listed, and the day-of-month field (or, when that is `?`,
        the day-of-week field) must match it.
        """
        if day.year not in self.years or day.month not in self.months:
            return False
        if self.day_of_month is not None:
            return self.day_of_month.matches(day)
        assert self.day_of_week is not None
        return self.day_of_week.matches(day)

    def next_after(self, moment: datetime) -> datetime:
        """The next firing time (UTC, whole minutes) after `moment`.

        Raises ScheduleExpressionError when it never fires again within five years.
        """
        moment = moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = moment.date()
        for _ in range(366 * SEARCH_YEARS):
            if self.day_matches(day):
                first_hour = moment.hour if day == moment.date() else 0
                for hour in sorted(h for h in self.hours if h >= first_hour):
                    first_minute = moment.minute if (day, hour) == (moment.date(),
                                                                     moment.hour) else 0
                    minutes = [m for m in sorted(self.minutes) if m >= first_minute]
                    if minutes:
                        return datetime(day.year, day.month, day.day, hour, minutes[0],
                                        tzinfo=UTC)
            day += timedelta(days=1)
        raise ScheduleExpressionError("the expression does not fire in the next five years")


def _day_of_month(text: str) -> DayOfMonth | None:
    upper = text.upper()
    if upper == "?":
        return None
    if upper == "L":
        return DayOfMonth(last=True)
    if upper == "LW":
        return DayOfMonth(last_weekday=True)
    if upper.endswith("W"):
        return DayOfMonth(nearest_weekday=min(_values(upper[:-1], 1, 31, "day-of-month")))
    return DayOfMonth(days=_values(upper, 1, 31, "day-of-month"))


def _day_of_week(text: str) -> DayOfWeek | None:
    upper = text.upper()
    if upper == "?":
        return None
    if upper.endswith("L") and len(upper) > 1:
        return DayOfWeek(last_of_month=_number(upper[:-1], WEEKDAYS, "day-of-week"))
    if upper == "L":
        return DayOfWeek(days=frozenset({7}))  # L alone: the last day of the week, Saturday
    if "#" in upper:
        weekday, nth = upper.split("#", 1)
        number = _number(weekday, WEEKDAYS, "day-of-week")
        if not nth.isdigit() or not 1 <= int(nth) <= 5 or not 1 <= number <= 7:
            raise ScheduleExpressionError(f"day-of-week: bad {text!r}")
        return DayOfWeek(nth=(number, int(nth)))
    return DayOfWeek(days=_values(upper, 1, 7, "day-of-week", WEEKDAYS))


def parse_cron(expression: str) -> CronSchedule | None:
    """The schedule of `cron(...)`; None when the expression is not a cron expression.

    Raises ScheduleExpressionError naming the bad field.
    """
    text = expression.strip()
    if not (text.startswith("cron(") and text.endswith(")")):
        return None
    fields = text[5:-1].split()
    if len(fields) != 6:
        raise ScheduleExpressionError(
            f"{expression}: cron needs 6 fields (minutes hours day-of-month month "
            f"day-of-week year), got {len(fields)}")
    minutes, hours, dom, month, dow, year = fields
    day_of_month, day_of_week = _day_of_month(dom), _day_of_week(dow)
    if (day_of_month is None) == (day_of_week is None):
        raise ScheduleExpressionError(
            f"{expression}: exactly one of day-of-month and day-of-week must be '?'")
    return CronSchedule(
        minutes=_values(minutes, 0, 59, "minutes"),
        hours=_values(hours, 0, 23, "hours"),
        months=_values(month.upper(), 1, 12, "month", MONTHS),
        years=_values(year, 1970, 2199, "year"),
        day_of_month=day_of_month,
        day_of_week=day_of_week,
    )
