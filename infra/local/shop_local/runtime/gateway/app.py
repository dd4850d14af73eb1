"""The local API Gateway as an ASGI app: one REST API, Lambda proxy integrations.

For each request: a body declared over the payload limit is refused (413, connection
closed) before it is read; the route table finds the resource and method (none:
403 `Missing Authentication Token`, the body left unread); the body is read, counting,
so a chunked one over the limit is refused the same way (one that has not fully
arrived within the body timeout is 408, connection closed); a `mock` method (a CORS
preflight) answers from its integration response; otherwise the proxy event goes to the
function through the Lambda service (`Submitter`) and its answer becomes the HTTP
response. A proxy event over Lambda's 6 MB synchronous payload quota (a body under the
10 MB above, once JSON- or base64-encoded with the headers) is 413 `Request Too Long`
without invoking, as API Gateway answers when Lambda refuses it. A function error, a
malformed answer or an invocation the Lambda service refuses is 502 `Internal server
error`; no answer within the integration timeout is 504. Every 413 of the event, 502 and
504 is logged (logger `shop.gateway`) with the request id the answer carries.
Every answer carries `x-amzn-RequestId` (the event's `requestContext.requestId`) and
`x-amz-apigw-id`, as API Gateway's do. The optional access log (one line per request,
common log format plus the duration) is redacted: a query string can carry a token.

A gateway-made problem (the shop's gateway responses, the 408 rendered as a problem)
names the requested path, without the query string, as its `instance` (RFC 9457
§3.1.5), as the services' own problems do. The HTTP server's 400, 414 and 431 carry none:
they are answered before a request exists, and a 414's path is the over-long thing refused.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TextIO

import orjson

from shop_common.errors import path_reference
from shop_common.redaction import redact_text
from shop_local.runtime.gateway.gateway_responses import (
    FUNCTION_FAILED,
    INTEGRATION_TIMEOUT,
    LAMBDA_PAYLOAD_TOO_LARGE,
    MISSING_AUTHENTICATION_TOKEN,
    REQUEST_TOO_LARGE,
    GatewayResponses,
    ResponseType,
)
from shop_local.runtime.gateway.proxy_event import (
    ApiIdentity,
    HttpRequest,
    build_proxy_event,
    extended_request_id,
)
from shop_local.runtime.gateway.proxy_response import (
    HttpResponse,
    MalformedProxyResponse,
    parse_proxy_response,
)
from shop_local.runtime.gateway.routes import Integration, RouteTable
from shop_local.runtime.gateway.settings import GatewaySettings
from shop_local.runtime.http_server import RAW_HEADER_NAMES
from shop_local.runtime.ids import request_id as new_request_id
from shop_local.runtime.invocation import (
    SYNC_PAYLOAD_LIMIT_BYTES,
    InvocationResult,
    InvokeError,
    RequestTooLarge,
    Submitter,
)

log = logging.getLogger("shop.gateway")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class BodyTooLarge(Exception):
    """The request body passed the gateway's limit (`max_body_bytes`): answered 413."""


class ClientGone(Exception):
    """The client disconnected before its body had arrived: nothing is answered."""


def with_instance(content_type: str, body: bytes, path: str) -> bytes:
    """`body` with `instance` = `path` when it is an `application/problem+json` object
    without one (RFC 9457 §3.1.5), as the gateway's templated problems and the services'
    own carry it; any other body unchanged.
    """
    if content_type.split(";", 1)[0].strip().lower() != "application/problem+json":
        return body
    try:
        problem = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    if not isinstance(problem, dict) or "instance" in problem:
        return body
    return orjson.dumps({**problem, "instance": path_reference(path)})


def _request_headers(scope: Scope) -> list[tuple[str, str]]:
    values = [value.decode("utf-8", "replace") for _, value in scope["headers"]]
    raw = (scope.get("extensions") or {}).get(RAW_HEADER_NAMES)
    if raw is not None and len(raw["names"]) == len(values):
        names = [name.decode("latin-1") for name in raw["names"]]
    else:  # another server: ASGI gives lower-case names only
        names = [name.decode("latin-1").title() for name, _ in scope["headers"]]
    return list(zip(names, values, strict=True))


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value)  # the HTTP server has refused anything but digits
    return None


async def _read_body(receive: Receive, limit: int, timeout: float) -> bytes:
    """The whole body; raises BodyTooLarge past `limit` bytes, BodyTimeout past `timeout` s."""
    message = await receive()  # a small body has arrived with the header section
    if message["type"] == "http.request" and not message.get("more_body"):
        body: bytes = message.get("body", b"")
        if len(body) > limit:
            raise BodyTooLarge
        return body
    chunks: list[bytes] = []
    size = 0
    async with asyncio.timeout(timeout):
        while True:
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
            message = await receive()


class RestApiGateway:
    """ASGI 3 app serving one REST API through `invoker` (see the module doc)."""

    def __init__(self, routes: RouteTable, invoker: Submitter, api: ApiIdentity, *,
                 settings: GatewaySettings | None = None,
                 responses: GatewayResponses | None = None,
                 access_log: TextIO | None = None,
                 render_error: Callable[[int, str], tuple[str, bytes]] | None = None) -> None:
        self.routes = routes
        # The HTTP server's own refusals are rendered by the embedding runtime (text by
        # default, problem+json in the shop's services); the body timeout's 408 is one of
        # them even though it is detected here, after the header section was handed over.
        self.render_error = render_error
        self.invoker = invoker
        self.api = api
        self.settings = settings or GatewaySettings()
        self.responses = responses or GatewayResponses()
        self.access_log = access_log
        self._pending: set[asyncio.Future[InvocationResult]] = set()

    def _request_timeout(self, path: str) -> HttpResponse:
        if self.render_error is None:
            return HttpResponse(408, [("Content-Type", "application/json")],
                                b'{"message":"Request Timeout"}')
        content_type, body = self.render_error(408, "Request Timeout")
        return HttpResponse(408, [("Content-Type", content_type)],
                            with_instance(content_type, body, path))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        started = time.time()
        request_id = new_request_id()
        extended_id = extended_request_id()
        method: str = scope["method"]
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        # At AWS's execute-api endpoint $context.path begins with the stage, so it never
        # begins `//`; here there is no stage in the URL, and a problem's instance of
        # `//host/x` would name another host.
        context = {"httpMethod": method, "path": path_reference(raw_path), "resourcePath": "",
                   "requestId": request_id, "stage": self.api.stage}
        try:
            response, close = await self._handle(scope, receive, method, raw_path,
                                                 request_id, extended_id, context, started)
        except ClientGone:
            return
        response.headers += [("x-amzn-RequestId", request_id), ("x-amz-apigw-id", extended_id)]
        if close:
            response.headers.append(("Connection", "close"))
        response.headers.append(("Content-Length", str(len(response.body))))
        await send({"type": "http.response.start", "status": response.status,
                    "headers": [(k.encode("latin-1"), v.encode("utf-8"))
                                for k, v in response.headers]})
        await send({"type": "http.response.body", "body": response.body})
        if self.access_log is not None:
            self._log_access(scope, method, response, started)

    async def _handle(self, scope: Scope, receive: Receive, method: str, raw_path: str,
                      request_id: str, extended_id: str, context: dict[str, str],
                      started: float) -> tuple[HttpResponse, bool]:
        limit = self.settings.max_body_bytes
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            # Answered unread, and the connection closed so the rest is never read either.
            return self._gateway_response(REQUEST_TOO_LARGE, context), True
        match = self.routes.match(method, raw_path)
        if match is None:
            return self._gateway_response(MISSING_AUTHENTICATION_TOKEN, context), False
        context["resourcePath"] = match.resource
        try:
            body = await _read_body(receive, limit, self.settings.body_timeout)
        except BodyTooLarge:
            return self._gateway_response(REQUEST_TOO_LARGE, context), True
        except TimeoutError:
            return self._request_timeout(raw_path), True
        if match.integration.type == "mock":
            return self._mock_response(match.integration), False

        client = scope.get("client") or ("127.0.0.1", 0)
        server = scope.get("server") or ("127.0.0.1", 0)
        headers = _request_headers(scope)
        request = HttpRequest(
            method=method, raw_path=raw_path,
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers, body=body, client_ip=client[0], server_port=server[1] or 0,
            scheme=scope.get("scheme", "http"), http_version=scope.get("http_version", "1.1"),
        )
        event = build_proxy_event(request, match.resource, match.path_parameters, self.api,
                                  self.routes.binary_media_types, request_id=request_id,
                                  extended_id=extended_id, now=started)
        accept = next((v for k, v in reversed(headers) if k.lower() == "accept"), None)
        payload = orjson.dumps(event)
        if len(payload) > SYNC_PAYLOAD_LIMIT_BYTES:
            # Decided here rather than left to the Lambda service: the function is never
            # started, and the answer names the quota rather than a failed function.
            return self._payload_too_large(match.integration.function_name, len(payload),
                                           context), False
        response = await self._invoke(match.integration.function_name, payload, accept,
                                      context)
        response.headers.append(("X-Amzn-Trace-Id", event["headers"]["X-Amzn-Trace-Id"]))
        return response, False

    async def _invoke(self, function_name: str, payload: bytes, accept: str | None,
                      context: dict[str, str]) -> HttpResponse:
        """The function's HTTP response, or the gateway's 502/504 (logged why)."""
        loop = asyncio.get_running_loop()
        task = self.invoker.submit(function_name, payload)
        # The invocation runs on its own (past a gateway timeout too); waiting on it is
        # one future settled by whichever comes first (cheaper than asyncio.wait on this
        # hot path).
        settled: asyncio.Future[None] = loop.create_future()

        def settle(*_: object) -> None:
            if not settled.done():
                settled.set_result(None)

        task.add_done_callback(settle)
        timer = loop.call_later(self.settings.integration_timeout, settle)
        try:
            await settled
        finally:
            timer.cancel()
        request_id = context["requestId"]
        if not task.done():
            # API Gateway stops waiting; the invocation itself runs on in Lambda.
            log.warning("%s: request %s: Execution failed due to a timeout error",
                        function_name, request_id)
            self._pending.add(task)
            task.add_done_callback(self._forget)
            return self._gateway_response(INTEGRATION_TIMEOUT, context)
        try:
            result = task.result()
        except RequestTooLarge as exc:  # a Submitter that measures the event otherwise
            return self._payload_too_large(function_name, None, context, str(exc))
        except InvokeError as exc:
            log.warning("%s: request %s: invocation refused (%s): %s", function_name,
                        request_id, exc.error_type, exc)
            return self._gateway_response(FUNCTION_FAILED, context)
        if result.function_error:
            log.warning("%s: request %s: Lambda execution failed with status 200 due to "
                        "customer function error: %s", function_name, request_id,
                        result.payload[:2000].decode("utf-8", "replace"))
            return self._gateway_response(FUNCTION_FAILED, context)
        try:
            return parse_proxy_response(result.payload, accept, self.routes.binary_media_types)
        except MalformedProxyResponse as exc:
            log.warning("%s: request %s: Execution failed due to configuration error: "
                        "Malformed Lambda proxy response (%s)", function_name, request_id, exc)
            return self._gateway_response(FUNCTION_FAILED, context)

    def _payload_too_large(self, function_name: str, size: int | None,
                           context: dict[str, str], reason: str = "") -> HttpResponse:
        """413: the proxy event of `size` bytes is over Lambda's synchronous payload quota.

        Logged with the request id the answer carries, so a client's report leads here.
        """
        log.warning("%s: request %s: Execution failed: the proxy event%s is over Lambda's "
                    "synchronous invocation payload limit (%d bytes, 6 MB)%s; the function "
                    "was not invoked", function_name, context["requestId"],
                    f" ({size} bytes)" if size is not None else "", SYNC_PAYLOAD_LIMIT_BYTES,
                    f": {reason}" if reason else "")
        return self._gateway_response(LAMBDA_PAYLOAD_TOO_LARGE, context)

    def _forget(self, task: asyncio.Future[InvocationResult]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("an invocation the gateway gave up on failed: %s", task.exception())

    def _gateway_response(self, kind: ResponseType, context: dict[str, str]) -> HttpResponse:
        return self.responses.render(kind, context)

    def _mock_response(self, integration: Integration) -> HttpResponse:
        headers = [*integration.headers, ("Content-Type", "application/json")]
        return HttpResponse(integration.status, headers, b"")

    def _log_access(self, scope: Scope, method: str, response: HttpResponse,
                    started: float) -> None:
        assert self.access_log is not None
        client = (scope.get("client") or ("-", 0))[0]
        when = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(started))
        target = scope.get("raw_path", b"").decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        self.access_log.write(redact_text(
            f'{client} - - [{when}] "{method} {target} HTTP/{scope.get("http_version", "1.1")}" '
            f'{response.status} {len(response.body)} {(time.time() - started) * 1000:.1f}ms\n'))
        self.access_log.flush()

