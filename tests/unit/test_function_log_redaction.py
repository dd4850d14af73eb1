"""What an execution environment prints is redacted whole lines at a time."""

from __future__ import annotations

from shop_local.runtime.function_logs import MAX_PENDING_BYTES, RedactedOutput

SECRET = "hunter2-is-the-password"


def test_can_redact_a_secret_split_across_two_reads() -> None:
    output = RedactedOutput()
    first = output.feed(b"ok line\npassword=hunter2-is")
    second = output.feed(b"-the-password and more\nnext")
    written = first + second + output.flush()
    assert SECRET.encode() not in written
    assert written == b"ok line\npassword=[redacted] and more\nnext"


def test_can_hold_an_unfinished_line_until_its_end_arrives() -> None:
    output = RedactedOutput()
    assert output.feed(b"no end yet") == b""
    assert output.feed(b", now\n") == b"no end yet, now\n"
    assert output.flush() == b""


def test_can_write_a_line_longer_than_the_limit_in_parts() -> None:
    output = RedactedOutput()
    assert output.feed(b"x" * (MAX_PENDING_BYTES - 1)) == b""
    assert len(output.feed(b"xx")) == MAX_PENDING_BYTES + 1


def test_can_pass_bytes_that_are_not_utf8_through() -> None:
    output = RedactedOutput()
    assert output.feed(b"\xff\xfe binary\n") == b"\xff\xfe binary\n"
    assert output.feed(b"\xff token=abc\n") == b"\xff token=[redacted]\n"
