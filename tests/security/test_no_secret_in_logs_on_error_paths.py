"""No error path writes a secret to a log: a marker token and a marker password are sent
through every kind of failure, then looked for in every log file the stack wrote.

The token is a syntactically valid JWT that no key signed (so it fails where a token
is checked, and is logged wherever a careless path would log it); the password is sent
in the bodies. The paths: malformed JSON, unknown fields, a bad token, the wrong role,
404s, routes and methods the API does not declare (the gateway's own 403), 409, 422,
429, a 500 from a database failure, and clients that hang up in the middle of an error
response. The issue: such a disconnect left a traceback with `Authorization=Bearer …`
in the service's log. Every log the stack writes is searched: the service processes'
(gateway, HTTP server, the functions' output echoed) and each function's own log.
"""

from __future__ import annotations

import base64
import functools
import json
import socket
import struct
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.security.conftest import Accounts, Minter, Services
from tests.security.test_secrets_never_leak import failing_signup
from tests.support.client import ShopClient, unique_email
from tests.support.stack import ThrowawayStack

pytestmark = pytest.mark.integration

__all__ = ["failing_signup"]


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


MARK = uuid.uuid4().hex
MARKER_TOKEN = ".".join([
    b64({"alg": "EdDSA", "typ": "JWT", "kid": "user-tokens-1"}),
    b64({"sub": str(uuid.uuid4()), "role": "superadmin", "marker": MARK}),
    base64.urlsafe_b64encode(f"signature-{MARK}".encode()).decode().rstrip("="),
])
MARKER_PASSWORD = f"Marker-Password-{MARK}"
MARKERS = {"the marker token": MARKER_TOKEN, "its signature": MARKER_TOKEN.split(".")[2],
           "its payload": MARKER_TOKEN.split(".")[1], "the marker password": MARKER_PASSWORD}


def reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), as a client that crashed or was killed does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def hang_up_mid_response(port: int, request: bytes) -> bool:
    """Pipeline `request` without reading an answer until the server blocks writing one,
    then reset: the server's write fails in the middle of its error response. True when
    the server did stop reading (its answers backed up), i.e. the reset came mid-answer."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.settimeout(1.0)
    blocked = False
    try:
        for _ in range(20_000):  # the kernel buffers tens of MB on loopback
            sock.sendall(request)
    except TimeoutError:
        blocked = True  # the server has stopped reading
    except OSError:
        pass
    reset(sock)
    return blocked


def hang_up_after_sending(port: int, request: bytes, after: float) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(request)
    time.sleep(after)
    reset(sock)


def log_files(stack: ThrowawayStack) -> list[Path]:
    return sorted(path for path in stack.workdir.rglob("*.log") if path.is_file())


def call(client: ShopClient, method: str, path: str,
         **kwargs: Any) -> Callable[[], requests.Response]:
    return functools.partial(client.call, method, path, **kwargs)


def statuses_of(calls: list[Callable[[], requests.Response]]) -> list[int]:
    return [send().status_code for send in calls]


def around(text: str, marker: str) -> str:
    at = text.find(marker)
    return text[max(0, at - 300):at + 300]


def test_no_error_path_writes_the_marker_token_or_password_to_a_log(
    stack: ThrowawayStack, services: Services, minter: Minter, accounts: Accounts,
    failing_signup: str,
) -> None:
    users, products, orders = services.user, services.product, services.order
    enduser = minter.user(accounts.alice["id"])
    email = unique_email("marker")
    marker_login = {"email": email, "password": MARKER_PASSWORD}

    expected = {
        "malformed JSON": (400, call(users, "POST", "/users/login", token=MARKER_TOKEN,
                                     data=json.dumps(marker_login)[:-1])),
        "unknown field": (422, call(users, "POST", "/users/register", token=MARKER_TOKEN, json={
            **marker_login, "name": "M", "password_again": MARKER_PASSWORD})),
        "bad token, user": (401, call(users, "GET", "/users/me", token=MARKER_TOKEN)),
        "bad token, product": (401, call(products, "GET", "/products", token=MARKER_TOKEN)),
        "bad token, order": (401, call(orders, "GET", "/orders", token=MARKER_TOKEN)),
        "bad token, internal": (401, call(orders, "POST", "/internal/orders",
                                          token=MARKER_TOKEN, json={"x": MARKER_PASSWORD})),
        "wrong role": (403, call(users, "POST", "/admin/users", token=enduser, json={
            **marker_login, "name": "M", "role": "superadmin"})),
        "no such product": (404, call(products, "GET", f"/products/{uuid.uuid4()}",
                                      token=enduser, headers={"X-Marker": MARKER_PASSWORD})),
        "no such route": (403, call(users, "GET", f"/no/such/{MARK}", token=MARKER_TOKEN)),
        "no such route, query": (403, call(orders, "GET",
                                           f"/nowhere?access_token={MARKER_TOKEN}")),
        "first sign-up": (201, call(users, "POST", "/users/register", json={
            **marker_login, "name": "Marker"})),
        "sign-up again": (409, call(users, "POST", "/users/register", token=MARKER_TOKEN, json={
            **marker_login, "name": "Marker"})),
        "invalid sign-up": (422, call(users, "POST", "/users/register", json={
            "email": "not-an-email", "password": MARKER_PASSWORD, "name": "M\r\nX"})),
        "undeclared method": (403, call(users, "DELETE", "/users/login", token=MARKER_TOKEN,
                                        json=marker_login)),
        "database failure": (500, call(users, "POST", "/users/register", token=MARKER_TOKEN,
                                       json={"email": unique_email("marker-fail"),
                                             "password": MARKER_PASSWORD,
                                             "name": failing_signup})),
    }
    for label, (status, send) in expected.items():
        response = send()
        assert response.status_code == status, f"{label}: {response.text}"

    wrong = {"email": email, "password": f"{MARKER_PASSWORD}-wrong"}
    throttled = statuses_of([call(users, "POST", "/users/login", json=wrong)] * 7)
    assert throttled[:5] == [401] * 5 and 429 in throttled[5:], throttled

    # Clients that hang up mid-error: a write failing while an answer that quotes the
    # request is being sent once printed a traceback with the Authorization header. The
    # long path (within the HTTP server's 16 KiB header limit, so the gateway's 403
    # answers it) makes each answer big, so the server blocks writing one.
    port = int(users.base_url.rsplit(":", 1)[1])
    no_route = (f"GET /gone/{MARK}/{'a' * 12_000} HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {MARKER_TOKEN}\r\n\r\n").encode()
    assert hang_up_mid_response(port, no_route), "the server never blocked writing answers"
    body = json.dumps({"email": email, "password": f"{MARKER_PASSWORD}-x"}).encode()
    login_request = (f"POST /users/login HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                     f"{MARKER_TOKEN}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    hang_up_after_sending(port, login_request, 0.05)  # during the slow 401 (argon2)

    users.call("GET", "/health")  # a last line, once everything before it was handled
    time.sleep(1.0)
    files = log_files(stack)
    logged = {path: path.read_bytes().decode("utf-8", "replace") for path in files}
    for path, text in logged.items():
        for name, marker in MARKERS.items():
            assert marker not in text, f"{name} in {path.name}: …{around(text, marker)}…"
    # The 500's traceback was logged (redacted), and the functions' own logs were searched.
    assert any("Caught exception for path /users/register" in text for text in logged.values())
    assert any(path.parent.name == "lambda-logs" for path in logged), files
