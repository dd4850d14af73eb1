"""The service-to-service client: tokens, retries, and telling "no" from "don't know".

No network: a scripted `requests.Session` stands in for the other service.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ed25519

from shop_common.config import Settings
from shop_common.keys import KeyRing
from shop_common.logs import request_id_var
from shop_common.service_client import (
    NoAnswer,
    Outcome,
    Refusal,
    ServiceClient,
    ServiceRejected,
    ServiceReply,
    ServiceUnavailable,
    backoff_delay,
    classify_status,
)
from shop_common.tokens import verify_service_token


@pytest.mark.parametrize(("status", "outcome"), [
    (200, Outcome.SUCCESS), (201, Outcome.SUCCESS), (204, Outcome.SUCCESS),
    (400, Outcome.REJECTED), (401, Outcome.REJECTED), (403, Outcome.REJECTED),
    (404, Outcome.REJECTED), (409, Outcome.REJECTED), (422, Outcome.REJECTED),
    (408, Outcome.UNKNOWN), (425, Outcome.UNKNOWN), (429, Outcome.UNKNOWN),
    (500, Outcome.UNKNOWN), (502, Outcome.UNKNOWN), (503, Outcome.UNKNOWN),
    (504, Outcome.UNKNOWN), (302, Outcome.UNKNOWN),
])
def test_can_classify_what_a_status_says_about_the_outcome(status: int, outcome: Outcome) -> None:
    assert classify_status(status) is outcome


def test_backoff_grows_is_jittered_and_capped() -> None:
    assert backoff_delay(1, 0.1, rand=lambda: 0.0) == pytest.approx(0.05)
    assert backoff_delay(1, 0.1, rand=lambda: 1.0) == pytest.approx(0.1)
    assert backoff_delay(3, 0.1, rand=lambda: 1.0) == pytest.approx(0.4)
    assert backoff_delay(30, 0.1, rand=lambda: 1.0) == pytest.approx(2.0)


class ScriptedSession(requests.Session):
    """Answers each request with the next scripted status, or raises the scripted error."""

    def __init__(self, script: list[int | Exception]) -> None:
        super().__init__()
        self.script: Iterator[int | Exception] = iter(script)
        self.calls: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.calls.append({"method": method, "url": url, **kwargs})
        step = next(self.script)
        if isinstance(step, Exception):
            raise step
        response = requests.Response()
        response.status_code = step
        response._content = b'{"detail": "scripted"}'
        return response


PRODUCT_KEY = ed25519.Ed25519PrivateKey.generate()
SETTINGS = Settings.model_validate({
    "service_name": "product", "database_url": "postgresql+pg8000://u:p@127.0.0.1/db",
    "order_service_url": "http://orders.internal:8003", "service_call_attempts": 3,
})
KEYS = KeyRing(service="product", service_key=PRODUCT_KEY,
               user_token_public=ed25519.Ed25519PrivateKey.generate().public_key(),
               service_publics={"product": PRODUCT_KEY.public_key()})


def client(script: list[int | Exception]) -> tuple[ServiceClient, ScriptedSession, list[float]]:
    session, sleeps = ScriptedSession(script), list[float]()
    return ServiceClient(SETTINGS, KEYS, session=session, sleep=sleeps.append), session, sleeps


def test_can_call_with_a_short_lived_token_for_the_target_and_timeouts() -> None:
    service, session, _ = client([201])
    token = request_id_var.set("req-1")
    try:
        reply = service.post("order", "/internal/orders", {"a": 1}, idempotent=True)
    finally:
        request_id_var.reset(token)
    assert reply.status == 201 and reply.body == {"detail": "scripted"}
    [call] = session.calls
    assert call["url"] == "http://orders.internal:8003/internal/orders"
    assert call["timeout"] == (1.0, 5.0) and call["headers"]["X-Request-Id"] == "req-1"
    bearer = call["headers"]["Authorization"].removeprefix("Bearer ")
    claims = verify_service_token(bearer, {"product": PRODUCT_KEY.public_key()},
                                  audience="order", max_ttl_seconds=60)
    assert claims.caller == "product"


def test_retries_an_idempotent_call_through_5xx_and_timeouts() -> None:
    service, session, sleeps = client([503, requests.ReadTimeout(), 200])
    assert service.get("order", "/x").status == 200
    assert len(session.calls) == 3 and len(sleeps) == 2 and 0 < sleeps[0] <= sleeps[1] * 2


def test_gives_up_after_the_attempts_with_an_unknown_outcome() -> None:
    service, session, _ = client([requests.ConnectionError(), 500, requests.ConnectTimeout()])
    with pytest.raises(ServiceUnavailable) as caught:
        service.post("order", "/x", {}, idempotent=True)
    assert len(session.calls) == 3
    assert caught.value.status == 503 and caught.value.service == "order"
    assert caught.value.headers["Retry-After"]


def test_never_retries_a_call_that_is_not_safe_to_repeat() -> None:
    service, session, _ = client([503, 200])
    with pytest.raises(ServiceUnavailable):
        service.post("order", "/x", {})
    assert len(session.calls) == 1


def test_a_definite_refusal_is_not_retried_and_says_what_the_target_said() -> None:
    service, session, _ = client([404, 200])
    with pytest.raises(ServiceRejected) as caught:
        service.get("user", "/internal/users/1")
    assert len(session.calls) == 1
    problem = caught.value
    assert problem.status == 503 and problem.upstream_status == 404
    assert "scripted" in problem.detail and problem.to_dict()["type"].endswith("dependency-refused")


def test_refuses_a_target_it_has_no_address_for() -> None:
    service, _, _ = client([])
    with pytest.raises(ValueError):
        service.get("communication", "/x")


# `send`: the same call, its result returned as one value instead of raised.

def test_send_returns_a_2xx_as_the_reply() -> None:
    service, session, _ = client([201])
    result = service.send("order", "POST", "/internal/orders", json={"a": 1})
    assert result == ServiceReply(201, {"detail": "scripted"})
    assert session.calls[0]["json"] == {"a": 1}


def test_send_returns_a_definite_4xx_as_a_refusal_without_retrying() -> None:
    service, session, sleeps = client([409, 200])
    result = service.send("order", "POST", "/x", json={}, idempotent=True)
    assert result == Refusal("order", 409, {"detail": "scripted"})
    assert isinstance(result, Refusal)
    assert result.detail == "the order service refused the request (409): scripted"
    assert len(session.calls) == 1 and sleeps == []


@pytest.mark.parametrize("status", [429, 408])
def test_send_retries_a_not_now_answer_then_says_there_was_no_answer(status: int) -> None:
    service, session, sleeps = client([status, status, status])
    result = service.send("order", "GET", "/x")
    assert result == NoAnswer("order", f"answered {status}", status, {"detail": "scripted"})
    assert len(session.calls) == 3 and len(sleeps) == 2


def test_send_retries_a_5xx_and_returns_the_reply_that_came() -> None:
    service, session, _ = client([502, 500, 200])
    assert service.send("order", "GET", "/x") == ServiceReply(200, {"detail": "scripted"})
    assert len(session.calls) == 3


def test_send_returns_a_5xx_on_every_attempt_as_no_answer() -> None:
    service, _, _ = client([500, 502, 503])
    result = service.send("order", "GET", "/x")
    assert isinstance(result, NoAnswer) and result.status == 503
    assert result.detail == "the order service is unavailable: answered 503"


def test_send_returns_a_timeout_as_no_answer() -> None:
    service, session, _ = client([requests.ReadTimeout()] * 3)
    assert service.send("order", "GET", "/x") == NoAnswer("order", "timed out")
    assert len(session.calls) == 3


def test_send_returns_a_connection_error_as_no_answer() -> None:
    service, _, _ = client([requests.ConnectionError()] * 3)
    result = service.send("user", "GET", "/x")
    assert result == NoAnswer("user", "connection failed (ConnectionError)")


def test_send_never_retries_a_post_that_is_not_safe_to_repeat() -> None:
    service, session, sleeps = client([503, 200])
    result = service.send("order", "POST", "/x", json={})
    assert isinstance(result, NoAnswer) and result.status == 503
    assert len(session.calls) == 1 and sleeps == []


def test_a_result_becomes_the_problem_call_raises() -> None:
    refusal = Refusal("user", 404, {"title": "Not Found"}).as_problem()
    assert isinstance(refusal, ServiceRejected) and refusal.upstream_status == 404
    assert refusal.detail == "the user service refused the request (404): Not Found"
    unknown = NoAnswer("user", "timed out").as_problem()
    assert isinstance(unknown, ServiceUnavailable) and unknown.upstream_status is None
    assert unknown.detail == "the user service is unavailable: timed out"
