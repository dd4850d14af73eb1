"""A service's log, as an operator reads it after a login: request ids, never secrets."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.client import ShopClient, register, unique_email
from tests.support.stack import ServiceProcess, ThrowawayStack

pytestmark = pytest.mark.integration

PASSWORD = "Unmistakable-Secret-4711"


def running_user_service(stack: ThrowawayStack) -> ServiceProcess:
    return next(p for p in reversed(stack.processes)
                if p.service == "user" and p.process.poll() is None)


def log_once_it_mentions(handle: ServiceProcess, text: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while True:
        log = handle.log_path.read_text(errors="replace")
        if text in log or time.monotonic() > deadline:
            return log
        time.sleep(0.1)


def test_log_has_the_request_id_and_never_the_password_or_token(
    stack: ThrowawayStack, user_service: ShopClient
) -> None:
    email = unique_email("logs")
    register(user_service, email=email, password=PASSWORD)
    response = user_service.call("POST", "/users/login",
                                 json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    request_id = response.headers["X-Request-Id"]
    token = response.json()["access_token"]
    me = user_service.call("GET", "/users/me", token=token,
                           headers={"X-Request-Id": "caller-chosen-id-42"})
    assert me.headers["X-Request-Id"] == "caller-chosen-id-42"

    log = log_once_it_mentions(running_user_service(stack), "caller-chosen-id-42")

    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    login_entries = [e for e in entries if e.get("request_id") == request_id]
    assert login_entries, f"no log line carries the login's request id {request_id}"
    assert any(e.get("path") == "/users/login" and e.get("status") == 200
               for e in login_entries)
    assert any(e.get("request_id") == "caller-chosen-id-42" for e in entries)
    assert PASSWORD not in log
    assert token not in log and token.split(".")[2] not in log
