"""JSON log lines: the request id is in them, a secret never is."""

from __future__ import annotations

import json
import logging
import sys

from shop_common.logs import REDACTED, JsonFormatter, redact, request_id_var

SECRET = "hunter2-very-secret"


def record(message: str = "hello", **extra: object) -> logging.LogRecord:
    entry = logging.makeLogRecord({
        "name": "shop.test", "levelno": logging.INFO, "levelname": "INFO", "msg": message,
    })
    entry.__dict__.update(extra)
    return entry


def formatted(entry: logging.LogRecord) -> dict[str, object]:
    line = JsonFormatter("user").format(entry)
    return dict(json.loads(line))


def test_can_write_one_json_object_per_line() -> None:
    line = JsonFormatter("user").format(record("hello"))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["service"] == "user" and entry["level"] == "INFO"
    assert entry["message"] == "hello" and entry["time"].endswith("Z")


def test_each_line_carries_its_own_utc_time_to_the_millisecond() -> None:
    formatter = JsonFormatter("user")
    times = []
    # 2026-11-30T19:00:00 UTC is 1796065200; the same second twice, then the next one.
    for created in (1796065200.25, 1796065200.999, 1796065201.0):
        entry = record()
        entry.created, entry.msecs = created, (created - int(created)) * 1000
        times.append(json.loads(formatter.format(entry))["time"])
    assert times == ["2026-11-30T19:00:00.250Z", "2026-11-30T19:00:00.999Z",
                     "2026-11-30T19:00:01.000Z"]


def test_request_id_is_in_every_line_written_during_a_request() -> None:
    token = request_id_var.set("req-123")
    try:
        assert formatted(record())["request_id"] == "req-123"
    finally:
        request_id_var.reset(token)
    assert "request_id" not in formatted(record())


def test_sensitive_fields_are_never_written() -> None:
    entry = formatted(record(
        password=SECRET, access_token=SECRET, authorization=f"Bearer {SECRET}",
        api_key=SECRET, Cookie=SECRET,
        body={"email": "a@example.com", "password": SECRET, "nested": [{"token": SECRET}]},
        route="/users/login",
    ))
    assert SECRET not in json.dumps(entry)
    assert entry["password"] == REDACTED and entry["authorization"] == REDACTED
    assert entry["body"] == {  # type: ignore[comparison-overlap]
        "email": "a@example.com", "password": REDACTED, "nested": [{"token": REDACTED}],
    }
    assert entry["route"] == "/users/login"


def test_redact_keeps_harmless_values() -> None:
    assert redact({"status": 200, "items": [1, 2]}) == {"status": 200, "items": [1, 2]}


def test_exceptions_are_written_with_their_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        entry = record(exc_info=sys.exc_info())
    assert "ValueError: boom" in str(formatted(entry)["exception"])
