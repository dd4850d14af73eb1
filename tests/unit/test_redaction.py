"""Secrets never reach a log line, whichever path wrote it: by name, by shape, in tracebacks."""

from __future__ import annotations

import contextlib
import enum
import io
import json
import logging
import sys
import threading
from collections.abc import Iterator

import pytest

from shop_common.logs import configure_logging, stop_log_listener
from shop_common.redaction import REDACTED, RedactingFilter, redact, redact_text

# Looks like a JWT (three base64url parts, a JSON header) and is unique in any log.
JWT = ("eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJtYXJrZXItNDcxMSJ9."
       "bWFya2VyLXNpZ25hdHVyZS00NzEx")
PASSWORD = "Marker-Password-4711"


@pytest.mark.parametrize("line", [
    # chalice.local's 403 for an unknown route quotes the header inside its exception.
    "ForbiddenError: ({'x-amzn-ErrorType': 'UnauthorizedException'}, b'{\"message\": "
    "\"Authorization header requires existence of either a X-Amz-Date or a Date header. "
    f"Authorization=Bearer {JWT}\"}}')",
    f"{{'host': '127.0.0.1', 'authorization': 'Bearer {JWT}'}}",
    f"Authorization: Bearer {JWT}",
    f"authorization=bearer {JWT}",
    f"GET /orders?access_token={JWT} HTTP/1.1",
    f"sent {JWT} to the order service",
    "Authorization: Basic YWRtaW46TWFya2VyLVBhc3N3b3JkLTQ3MTE=",
])
def test_bearer_tokens_and_jwts_are_redacted(line: str) -> None:
    redacted = redact_text(line)
    assert JWT not in redacted and JWT.split(".")[2] not in redacted
    assert "YWRtaW46TWFya2VyLVBhc3N3b3JkLTQ3MTE" not in redacted
    assert REDACTED in redacted


@pytest.mark.parametrize("line", [
    f'{{"email": "a@example.com", "password": "{PASSWORD}"}}',
    f"{{'password': '{PASSWORD}', 'name': 'Ann'}}",
    f"password={PASSWORD}&email=a@example.com",
    f"SHOP_SUPERADMIN_PASSWORD={PASSWORD}",
    f'new_password: "{PASSWORD}"',
    f'{{"password": "with \\"quotes\\" {PASSWORD}"}}',
    f"postgresql+pg8000://shop_user:{PASSWORD}@127.0.0.1:5432/shop_user",
    f"amqp://user-service:{PASSWORD}@127.0.0.1:5672/shop",
    f"redis://user:{PASSWORD}@127.0.0.1:6379/1",
    f"client_secret: {PASSWORD}",
])
def test_passwords_and_url_credentials_are_redacted(line: str) -> None:
    assert PASSWORD not in redact_text(line)


def test_password_hashes_and_private_keys_are_redacted() -> None:
    line = ("hash $argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA and -----BEGIN PRIVATE KEY-----\n"
            "MC4CAQAwBQYDK2VwBCIEIMarker\n-----END PRIVATE KEY----- done")
    redacted = redact_text(line)
    assert "$argon2" not in redacted and "MC4CAQAwBQYDK2VwBCIEIMarker" not in redacted
    assert redacted.endswith(" done")


@pytest.mark.parametrize("line", [
    "request", "GET /products?limit=3 HTTP/1.1 200", "Pushgateway basic auth is on",
    "wrong email or password", "login throttle unavailable; allowing the attempt",
    "http://127.0.0.1:8001/users/login", '{"route": "/users/login", "status": 401}',
])
def test_harmless_lines_are_left_alone(line: str) -> None:
    assert redact_text(line) == line


def test_redacting_twice_changes_nothing_more() -> None:
    line = (f"Authorization=Bearer {JWT} password='{PASSWORD}' "
            f"amqp://u:{PASSWORD}@h/v {JWT}")
    once = redact_text(line)
    assert redact_text(once) == once


def test_structured_values_are_redacted_by_name_and_by_shape() -> None:
    value = {"headers": {"Authorization": f"Bearer {JWT}"}, "note": f"token {JWT}",
             "items": [f"password={PASSWORD}"], "count": 3}
    redacted = redact(value)
    assert redacted["headers"] == {"Authorization": REDACTED}
    assert JWT not in json.dumps(redacted) and PASSWORD not in json.dumps(redacted)
    assert redacted["count"] == 3


class Level(enum.IntEnum):
    HIGH = 3


def test_numbers_are_kept_unless_their_name_says_secret() -> None:
    value = {"status": 200, "duration_ms": 1.5, "ok": True, "none": None, "level": Level.HIGH,
             "pin": 1234, "api_key": 99, "Session-Token": None}
    redacted = redact(value)
    assert redacted == {"status": 200, "duration_ms": 1.5, "ok": True, "none": None,
                        "level": 3, "pin": 1234, "api_key": REDACTED,
                        "Session-Token": REDACTED}
    assert type(redacted["level"]) is Level and type(redacted["ok"]) is bool


def test_each_field_name_is_judged_by_its_own_words_however_many_names_were_seen() -> None:
    # More names than any cache of decisions holds, each asked twice, in two spellings.
    for round_ in range(2):
        for number in range(3000):
            assert redact("plain", f"field_{number}") == "plain", round_
            assert redact("plain", f"Field_{number}_Password") == REDACTED, round_


@contextlib.contextmanager
def service_logging() -> Iterator[io.StringIO]:
    """The process's logging configured as a service's, writing into a buffer."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, sys.stderr, sys.excepthook, threading.excepthook)
    buffer = io.StringIO()
    sys.stderr = buffer
    try:
        configure_logging("user")  # queued, as in a service process
        yield buffer
    finally:
        stop_log_listener()
        root.handlers[:], level, sys.stderr, sys.excepthook, threading.excepthook = saved
        root.setLevel(level)
        logging.captureWarnings(False)


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    with service_logging() as buffer:
        yield buffer


def written(buffer: io.StringIO) -> str:
    """What the log listener thread has written, once it has drained its queue."""
    stop_log_listener()
    return buffer.getvalue()


def lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in written(buffer).splitlines()]


def test_every_part_of_a_record_is_redacted(captured_logs: io.StringIO) -> None:
    log = logging.getLogger("shop.test")
    log.warning("calling with %s", {"Authorization": f"Bearer {JWT}"},
                extra={"url": f"amqp://u:{PASSWORD}@h/v", "body": {"password": PASSWORD}})
    try:
        raise RuntimeError(f"refused: Authorization=Bearer {JWT} password={PASSWORD}")
    except RuntimeError:
        log.exception("failed")
    log.error("here", stack_info=True, extra={"note": f"token {JWT}"})
    text = written(captured_logs)
    assert JWT not in text and PASSWORD not in text
    entries = lines(captured_logs)
    assert "RuntimeError: refused: Authorization=[redacted]" in str(entries[1]["exception"])
    assert entries[2]["stack"]


def test_third_party_loggers_are_redacted_too(captured_logs: io.StringIO) -> None:
    logging.getLogger("urllib3.connectionpool").warning("Retrying with %s", f"Bearer {JWT}")
    assert JWT not in written(captured_logs)
    assert lines(captured_logs)[0]["logger"] == "urllib3.connectionpool"


def test_a_logger_with_its_own_console_handler_goes_through_the_root_handler() -> None:
    # What Chalice does for every app: a stdout handler and no propagation.
    chalice_like = logging.getLogger("shop-test-app")
    chalice_like.addHandler(logging.StreamHandler(sys.stdout))
    chalice_like.propagate = False
    file_like = logging.getLogger("shop-test-file")
    own = logging.StreamHandler(io.StringIO())
    file_like.addHandler(own)
    try:
        with service_logging() as buffer:
            chalice_like.error("Caught exception for path %s: Bearer %s", "/x", JWT)
            file_like.error("token=%s", JWT)
            text = written(buffer)
    finally:
        chalice_like.handlers.clear()
        file_like.handlers.clear()
    assert chalice_like.propagate
    assert JWT not in text and "Caught exception for path /x" in text
    assert any(isinstance(f, RedactingFilter) for f in own.filters)
    assert JWT not in own.stream.getvalue()


def test_an_uncaught_exception_in_a_thread_is_logged_redacted(
    captured_logs: io.StringIO,
) -> None:
    def fail() -> None:
        raise ValueError(f"Authorization=Bearer {JWT}")

    thread = threading.Thread(target=fail, name="worker-1")
    thread.start()
    thread.join()
    assert JWT not in written(captured_logs)
    [entry] = lines(captured_logs)
    assert entry["message"] == "uncaught exception in thread worker-1"
    assert "ValueError" in str(entry["exception"])


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text")


def test_an_unreadable_extra_hides_itself_and_the_later_extras_are_still_redacted() -> None:
    record = logging.makeLogRecord({"msg": "calling", "first": f"token {JWT}",
                                    "broken": Unprintable(), "url": f"amqp://u:{PASSWORD}@h/v",
                                    "body": {"password": PASSWORD}, "status": 200})
    RedactingFilter().filter(record)
    extras = {name: getattr(record, name) for name in ("first", "broken", "url", "body")}
    assert JWT not in str(extras) and PASSWORD not in str(extras)
    assert extras["broken"] == REDACTED and record.status == 200  # type: ignore[attr-defined]
    assert record.getMessage() == "calling"


def test_a_message_that_cannot_be_checked_is_withheld_and_its_extras_redacted() -> None:
    record = logging.makeLogRecord({"msg": "calling %s", "args": (Unprintable(),),
                                    "note": f"token {JWT}"})
    RedactingFilter().filter(record)
    assert "withheld" in record.getMessage()
    assert JWT not in str(record.note)  # type: ignore[attr-defined]
