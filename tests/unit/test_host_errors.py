"""The local API Gateway's own error reporting writes no secret (and no raw traceback print)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from chalice.local import ForbiddenError

from shop_common.redaction import RedactingFilter
from shop_local.runtime.host import ShopHTTPServer

JWT = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJtYXJrZXIifQ.bWFya2VyLXNpZ25hdHVyZQ"


@pytest.fixture
def host_log() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("shop.host")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


def fail_while_refusing_a_route(error: Exception) -> None:
    """What chalice.local does for an unknown route: its 403 quotes the Authorization header."""
    try:
        raise ForbiddenError({}, b'{"message": "... Authorization=Bearer ' + JWT.encode() + b'"}')
    except ForbiddenError:
        raise error  # noqa: B904 (the context is the point)


def report(error: Exception) -> None:
    server = ShopHTTPServer.__new__(ShopHTTPServer)  # handle_error uses no server state
    try:
        fail_while_refusing_a_route(error)
    except Exception:
        server.handle_error(None, ("127.0.0.9", 40000))


def test_a_client_gone_mid_error_is_one_line_without_a_traceback(
    host_log: io.StringIO, capsys: pytest.CaptureFixture[str],
) -> None:
    report(BrokenPipeError(32, "Broken pipe"))
    assert host_log.getvalue() == (
        "INFO client 127.0.0.9 went away before its response was written (BrokenPipeError)\n")
    assert capsys.readouterr().err == ""  # socketserver's own print did not run


def test_another_error_mid_error_is_logged_with_the_token_redacted(
    host_log: io.StringIO, capsys: pytest.CaptureFixture[str],
) -> None:
    report(RuntimeError("the write failed"))
    logged = host_log.getvalue()
    assert "error while serving a request from 127.0.0.9" in logged
    assert "RuntimeError: the write failed" in logged and "ForbiddenError" in logged
    assert JWT not in logged and "Authorization=[redacted]" in logged
    assert capsys.readouterr().err == ""
