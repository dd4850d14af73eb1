"""The gateway's own answers around the function: a proxy event over Lambda's 6 MB quota is
a 413 decided before invoking, logged with its request id, and every gateway-made problem
names the requested path as its `instance`."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from shop_local.paths import GATEWAY_RESPONSES_FILE
from shop_local.runtime.gateway.app import RestApiGateway, with_instance
from shop_local.runtime.gateway.gateway_responses import GatewayResponses
from shop_local.runtime.gateway.proxy_event import ApiIdentity
from shop_local.runtime.gateway.routes import RouteTable
from shop_local.runtime.gateway.settings import GatewaySettings
from shop_local.runtime.invocation import (
    SYNC_PAYLOAD_LIMIT_BYTES,
    InvocationResult,
    RequestTooLarge,
)

URI = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
       "arn:aws:lambda:us-east-1:123456789012:function:orders/invocations")
SWAGGER: dict[str, Any] = {
    "x-amazon-apigateway-binary-media-types": ["application/octet-stream"],
    "paths": {"/products/{id}/orders": {"post": {"x-amazon-apigateway-integration": {
        "type": "aws_proxy", "uri": URI}}}},
}
PATH = "/products/7/orders"
CREATED = json.dumps({"statusCode": 201, "body": "{}"}).encode()


class Recorder:
    """A Lambda service that answers 201, or refuses or fails as told, and counts calls."""

    def __init__(self, refuse: Exception | None = None, error: bool = False) -> None:
        self.payloads: list[bytes] = []
        self.refuse = refuse
        self.error = error

    def submit(self, function_name: str, payload: bytes) -> asyncio.Future[InvocationResult]:
        self.payloads.append(payload)
        future: asyncio.Future[InvocationResult] = asyncio.get_running_loop().create_future()
        if self.refuse is not None:
            future.set_exception(self.refuse)
        elif self.error:
            future.set_result(InvocationResult(b'{"errorMessage": "boom"}', "Unhandled"))
        else:
            future.set_result(InvocationResult(CREATED))
        return future


def gateway(invoker: Recorder, shop: bool = True, **settings: Any) -> RestApiGateway:
    responses = GatewayResponses.load(GATEWAY_RESPONSES_FILE) if shop else GatewayResponses()
    return RestApiGateway(RouteTable(SWAGGER), invoker, ApiIdentity("api", "dev"),
                          settings=GatewaySettings(**settings), responses=responses,
                          render_error=lambda status, reason: (
                              "application/problem+json",
                              json.dumps({"status": status, "title": reason}).encode()))


def post(app: RestApiGateway, body: bytes, path: str = PATH, query: str = "",
         content_type: str = "application/json",
         chunks: list[dict[str, Any]] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request through the ASGI app; the status, header fields (lower-case) and body."""
    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(),
             "query_string": query.encode(), "http_version": "1.1",
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
             "headers": [(b"content-type", content_type.encode()),
                         (b"content-length", str(len(body)).encode())]}
    messages = list(chunks or [{"type": "http.request", "body": body, "more_body": False}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    headers = {k.decode().lower(): v.decode() for k, v in sent[0]["headers"]}
    return sent[0]["status"], headers, sent[1]["body"]


def order_padded_to(size: int) -> bytes:
    return b'{"quantity":1}' + b" " * (size - 14)


def test_a_body_whose_event_is_over_6_mb_is_a_413_problem_and_the_function_never_runs(
        caplog: pytest.LogCaptureFixture) -> None:
    invoker = Recorder()
    with caplog.at_level(logging.WARNING, logger="shop.gateway"):
        status, headers, body = post(gateway(invoker), order_padded_to(7 * 1024 * 1024),
                                     query="dry=1")
    assert status == 413
    assert invoker.payloads == []
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["instance"] == PATH
    assert "Request Too Long" in problem["detail"]
    request_id = headers["x-amzn-requestid"]
    assert request_id in problem["detail"]
    logged = [r.getMessage() for r in caplog.records if request_id in r.getMessage()]
    assert len(logged) == 1 and str(SYNC_PAYLOAD_LIMIT_BYTES) in logged[0]
    assert "connection" not in headers  # the body was read: the connection stays usable


def test_stock_answer_is_api_gateways_413_request_too_long() -> None:
    status, headers, body = post(gateway(Recorder(), shop=False),
                                 order_padded_to(SYNC_PAYLOAD_LIMIT_BYTES + 1))
    assert status == 413
    assert json.loads(body) == {"message": "Request Too Long"}
    assert headers["x-amzn-errortype"] == "BadRequestException"


def test_the_limit_counts_the_event_not_the_body() -> None:
    # 4.7 MB of binary is under 6 MB, but base64 in the event it is over.
    invoker = Recorder()
    status, _, _ = post(gateway(invoker), b"\x00" * (4_800_000),
                        content_type="application/octet-stream")
    assert status == 413 and invoker.payloads == []
    status, _, _ = post(gateway(invoker), order_padded_to(SYNC_PAYLOAD_LIMIT_BYTES - 200))
    assert status == 413  # the envelope and headers push a body just under 6 MB over
    status, _, _ = post(gateway(invoker), order_padded_to(5 * 1024 * 1024))
    assert status == 201
    assert len(invoker.payloads) == 1 and len(invoker.payloads[0]) <= SYNC_PAYLOAD_LIMIT_BYTES


def test_a_lambda_service_refusing_the_size_is_the_same_413(
        caplog: pytest.LogCaptureFixture) -> None:
    invoker = Recorder(refuse=RequestTooLarge("6291457 byte payload is too large"))
    with caplog.at_level(logging.WARNING, logger="shop.gateway"):
        status, headers, body = post(gateway(invoker), b'{"quantity":1}')
    assert status == 413 and "Request Too Long" in json.loads(body)["detail"]
    assert any(headers["x-amzn-requestid"] in r.getMessage() and "6291457" in r.getMessage()
               for r in caplog.records)


def test_a_502_is_logged_with_the_request_id_it_answers(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="shop.gateway"):
        status, headers, body = post(gateway(Recorder(error=True)), b'{"quantity":1}',
                                     path="/products/%C3%A9/orders", query="a=1")
    assert status == 502
    problem = json.loads(body)
    assert problem["instance"] == "/products/%C3%A9/orders"  # as requested, no query
    assert any(headers["x-amzn-requestid"] in r.getMessage() for r in caplog.records)


def test_gateway_made_problems_name_the_path_as_their_instance() -> None:
    app = gateway(Recorder(), max_body_bytes=100, body_timeout=0.05)
    status, _, body = post(app, b"{}", path="/nope")
    assert status == 403 and json.loads(body)["instance"] == "/nope"
    status, _, body = post(app, b"x" * 101)
    assert status == 413 and json.loads(body)["instance"] == PATH
    status, _, body = post(app, b"", chunks=[{"type": "http.request", "body": b"{",
                                              "more_body": True}])
    assert status == 408 and json.loads(body)["instance"] == PATH


def test_a_path_beginning_with_two_slashes_never_names_another_host() -> None:
    # GET //evil.example/x answered `"instance": "//evil.example/x"`, a network-path
    # reference (RFC 3986 §4.2) to another host; the services' own problems had `/.` in front.
    app = gateway(Recorder(), max_body_bytes=100)
    status, _, body = post(app, b"{}", path="//evil.example/x")
    assert status == 403 and json.loads(body)["instance"] == "/.//evil.example/x"
    status, _, body = post(app, b"x" * 101, path="//evil.example/x")
    assert status == 413 and json.loads(body)["instance"] == "/.//evil.example/x"
    assert json.loads(with_instance("application/problem+json", b'{"status": 408}',
                                    "//evil.example/x"))["instance"] == "/.//evil.example/x"
    status, _, body = post(app, b"{}", path="/\\evil.example/x")  # a browser reads \ as /
    assert status == 403 and json.loads(body)["instance"] == "/./\\evil.example/x"


def test_with_instance_leaves_other_bodies_alone() -> None:
    assert with_instance("text/plain", b"Request Timeout", "/a") == b"Request Timeout"
    kept = b'{"instance": "/x"}'
    assert with_instance("application/problem+json", kept, "/a") == kept
    assert json.loads(with_instance("application/problem+json; charset=utf-8",
                                    b'{"status": 408}', '/a"b')) == {"status": 408,
                                                                    "instance": '/a"b'}
