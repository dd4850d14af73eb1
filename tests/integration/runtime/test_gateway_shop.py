"""The shop's services behind the local API Gateway: what a client of the shop sees at the
edge (chunked bodies, HEAD, oversized bodies), the gateway's own answers kept problems."""

from __future__ import annotations

import glob
import json
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from shop_local.paths import ROOT
from tests.support.client import DEFAULT_PASSWORD, ShopClient, register
from tests.support.stack import ThrowawayStack, free_port

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


def test_a_chunked_login_answers_200(user_service: ShopClient) -> None:
    user = register(user_service)
    document = json.dumps({"email": user["email"], "password": DEFAULT_PASSWORD}).encode()

    def chunks() -> Iterator[bytes]:  # requests sends a generator with chunked encoding
        yield document[:10]
        yield document[10:]

    response = requests.post(user_service.base_url + "/users/login", data=chunks(), timeout=30,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"


def test_head_is_the_gateways_no_route_problem(user_service: ShopClient) -> None:
    response = requests.head(user_service.base_url + "/health", timeout=30)
    assert response.status_code == 403
    assert response.headers["Content-Type"] == PROBLEM
    assert response.content == b""


def test_a_body_over_10_mb_is_a_413_problem_before_it_is_read(user_service: ShopClient) -> None:
    port = int(user_service.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /users/register HTTP/1.1\r\nHost: shop\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 10485761\r\n\r\n{")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 413 ")
    assert f"content-type: {PROBLEM}".encode() in head.lower()
    assert json.loads(body)["status"] == 413


def test_a_body_that_never_completes_is_a_408_problem(stack: ThrowawayStack) -> None:
    service = stack.start("user", port=free_port(), SHOP_GATEWAY_BODY_TIMEOUT_SECONDS="2")
    try:
        with socket.create_connection(("127.0.0.1", service.port), timeout=20) as sock:
            sock.sendall(b"POST /users/login HTTP/1.1\r\nHost: shop\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"em")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    finally:
        service.stop()
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 408"), answer[:300]
    assert b"content-type: " + PROBLEM.encode() in head, answer[:400]


def test_a_bad_gateway_setting_refuses_to_start(stack: ThrowawayStack) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shop_local.runtime.host", "--service", "user",
         "--port", str(free_port())],
        env=stack.process_env(SHOP_GATEWAY_HEADER_TIMEOUT_SECONDS="soon"), cwd=ROOT,
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert "user: refusing to start: SHOP_GATEWAY_HEADER_TIMEOUT_SECONDS" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_malformed_request_is_a_400_problem_and_closes(user_service: ShopClient) -> None:
    port = int(user_service.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /users/login HTTP/1.1\r\nHost: shop\r\nContent-Length: -1\r\n\r\n"
                     b"GET /health HTTP/1.1\r\nHost: shop\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 400 ")
    assert f"content-type: {PROBLEM}".encode() in head.lower()
    assert json.loads(body)["status"] == 400
    assert answer.count(b"HTTP/1.1 ") == 1  # the request behind it never ran


def test_a_body_whose_event_is_over_6_mb_is_a_logged_413_problem(stack: ThrowawayStack) -> None:
    service = stack.start("user", port=free_port())
    try:
        body = b'{"email": "a@example.com", "password": "x"}' + b" " * (7 * 1024 * 1024)
        response = requests.post(f"http://127.0.0.1:{service.port}/users/login?next=1",
                                 data=body, timeout=60,
                                 headers={"Content-Type": "application/json"})
        assert response.status_code == 413, response.text
        assert response.headers["Content-Type"] == PROBLEM
        problem = response.json()
        assert "Request Too Long" in problem["detail"] and problem["instance"] == "/users/login"
        request_id = response.headers["x-amzn-RequestId"]
        # The connection stays usable and the gateway's own problems name the path.
        missing = requests.patch(f"http://127.0.0.1:{service.port}/users/me?x=1", timeout=30)
        assert missing.status_code == 403 and missing.json()["instance"] == "/users/me"
    finally:
        service.stop()
    logged = [line for line in service.log_path.read_text().splitlines()
              if request_id in line]
    assert logged and "6291456" in logged[0], service.log_path.read_text()[-2000:]


def test_a_service_stopped_by_sigterm_cleans_up_and_exits_zero(stack: ThrowawayStack) -> None:
    # uvicorn re-raised the SIGTERM once serving ended, so the process died before the
    # Lambda service removed its environments' temporary folder: one left per stop.
    service = stack.start("user", port=free_port())
    assert requests.get(service.url + "/health", timeout=10).status_code == 200
    folders = glob.glob(f"{tempfile.gettempdir()}/shop-lambda-{service.process.pid}-*")
    assert len(folders) == 1
    service.process.terminate()
    assert service.process.wait(30) == 0
    assert not Path(folders[0]).exists()
