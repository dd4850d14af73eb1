"""The Lambda Invoke API over HTTP, as `sam local start-lambda` offers it.

`POST /2015-03-31/functions/{FunctionName}/invocations`
(https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html), so that
`boto3.client("lambda", endpoint_url="http://127.0.0.1:3001").invoke(...)` runs a local
function. `FunctionName` is a name or an ARN (`Qualifier`, when given, must be
`$LATEST`). Headers honoured: `X-Amz-Invocation-Type` (`RequestResponse`, `Event`,
`DryRun`), `X-Amz-Log-Type: Tail` (the invocation's last 4 KB of log, base64, in
`X-Amz-Log-Result`) and `X-Amz-Client-Context` (base64 JSON, `context.client_context`).
Answers: 200 with the function's response (`X-Amz-Function-Error: Unhandled` and Lambda's
error document when it failed), 202 for `Event`, 204 for `DryRun`; refusals as Lambda's
(`x-amzn-ErrorType` and `{"Type", "message"}`): 403 `UnrecognizedClientException` or
`InvalidSignatureException` for a request not signed with the stack's key (`invoke_auth`;
checked first, as AWS does), 404 `ResourceNotFoundException`, 413
`RequestTooLargeException`, 429 `TooManyRequestsException`, 400
`InvalidParameterValueException`.

`InvokeApi` is an ASGI app over any `Invoker`-like service (`LambdaService` or the
router of `lambda_router`); `serve_in_background` runs it on a port in the caller's loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import re
import socket
import uuid
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote

import uvicorn

from shop_local.runtime.http_server import ServerLimits, bound_port, build_server, listen
from shop_local.runtime.invocation import (
    SYNC_PAYLOAD_LIMIT_BYTES,
    FunctionNotFound,
    InvocationResult,
    InvocationType,
    InvokeError,
    RequestTooLarge,
)
from shop_local.runtime.invoke_auth import InvokeAuth, SignedRequest

log = logging.getLogger("shop.invoke_api")

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")
FUNCTION_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9_-]+)(?::([^:]+))?$")
INVOCATION_TYPES: tuple[InvocationType, ...] = ("RequestResponse", "Event", "DryRun")
# The largest body read at all: past it the request is refused without reading the rest.
MAX_BODY_BYTES = SYNC_PAYLOAD_LIMIT_BYTES

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class InvokeService(Protocol):
    """What the API needs of the Lambda service (`LambdaService.invoke`'s signature)."""

    async def invoke(self, function_name: str, payload: bytes,
                     invocation_type: InvocationType = "RequestResponse", *,
                     log_tail: bool = False,
                     client_context: str = "") -> InvocationResult:
        """Run the function as the Invoke API asks (see `Invoker.invoke` for the result).

        `log_tail` asks for the invocation's last 4 KB of log in the result;
        `client_context` is the decoded client context JSON, on one line. Raises
        FunctionNotFound, RequestTooLarge or TooManyRequests (each an InvokeError).
        """


class BadParameter(InvokeError):
    """An invalid request parameter: the Invoke API's 400 `InvalidParameterValueException`."""

    status = 400
    error_type = "InvalidParameterValueException"


def function_name_of(path_name: str, qualifier: str | None) -> str:
    """The function name in a path segment (name or ARN); raises BadParameter/FunctionNotFound."""
    name = unquote(path_name)
    match = FUNCTION_ARN.match(name)
    if match:
        name, arn_qualifier = match.group(1), match.group(2)
        qualifier = qualifier or arn_qualifier
    elif not re.fullmatch(r"[A-Za-z0-9_-]{1,140}", name):
        raise BadParameter(f"1 validation error detected: Value '{name}' at 'functionName' "
                           "failed to satisfy constraint")
    if qualifier not in (None, "", "$LATEST"):
        raise FunctionNotFound(f"Function not found: {name}:{qualifier} (only $LATEST runs "
                               "locally)")
    return name


def error_response(error: InvokeError) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """An Invoke API refusal as (status, ASGI header pairs, body), as Lambda answers it.

    `x-amzn-ErrorType` names the error and a new `x-amzn-RequestId` is given; the body is
    `{"Type": "User", "message": <the error's text>}`.
    """
    body = json.dumps({"Type": "User", "message": str(error)}).encode()
    return error.status, [(b"content-type", b"application/json"),
                          (b"x-amzn-errortype", error.error_type.encode()),
                          (b"x-amzn-requestid", str(uuid.uuid4()).encode())], body


async def read_body(receive: Receive, limit: int) -> bytes:
    """The request body; raises RequestTooLarge as soon as it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionResetError("the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(f"Request must be smaller than {limit} bytes for the "
                                  "InvokeFunction operation")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def signed_request(scope: dict[str, Any], body: bytes) -> SignedRequest:
    """The request as received, for `InvokeAuth.check` (the path as the client encoded it)."""
    raw_path = scope.get("raw_path") or scope["path"].encode()
    return SignedRequest(
        method=scope["method"], raw_path=raw_path.decode("latin-1"),
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=[(key.decode("latin-1"), value.decode("latin-1"))
                 for key, value in scope["headers"]],
        body=body)


def header(scope: dict[str, Any], name: bytes) -> str:
    """Request header `name` (lower-case bytes, as ASGI names it) of `scope`; "" if absent."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


class InvokeApi:
    """The ASGI app (see the module doc).

    `auth` checks every caller; by default the stack's key if one is configured
    (`InvokeAuth.from_environ`), else any caller is served.
    """

    def __init__(self, service: InvokeService, auth: InvokeAuth | None = None) -> None:
        self.service = service
        self.auth = auth or InvokeAuth.from_environ()

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        try:
            status, headers, body = await self._handle(scope, receive)
        except InvokeError as error:
            status, headers, body = error_response(error)
        except ConnectionResetError:
            return
        await send({"type": "http.response.start", "status": status,
                    "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def _handle(self, scope: dict[str, Any],
                      receive: Receive) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        payload = await read_body(receive, MAX_BODY_BYTES)
        self.auth.check(signed_request(scope, payload))
        match = INVOKE_PATH.match(scope["path"])
        if match is None or scope["method"] != "POST":
            raise UnknownOperation(f"no such operation: {scope['method']} {scope['path']}")
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        name = function_name_of(match.group(1), (query.get("Qualifier") or [None])[0])
        invocation_type = header(scope, b"x-amz-invocation-type") or "RequestResponse"
        if invocation_type not in INVOCATION_TYPES:
            raise BadParameter(f"1 validation error detected: Value '{invocation_type}' at "
                               "'invocationType' failed to satisfy constraint: Member must "
                               f"satisfy enum value set: {list(INVOCATION_TYPES)}")
        log_type = header(scope, b"x-amz-log-type") or "None"
        if log_type not in ("None", "Tail"):
            raise BadParameter(f"Value '{log_type}' at 'logType' failed to satisfy constraint")
        client_context = decode_client_context(header(scope, b"x-amz-client-context"))
        result = await self.service.invoke(
            name, payload or b"{}", invocation_type,  # type: ignore[arg-type]
            log_tail=log_type == "Tail" and invocation_type == "RequestResponse",
            client_context=client_context)
        headers = [(b"x-amzn-requestid", result.request_id.encode()),
                   (b"x-amz-executed-version", result.executed_version.encode())]
        if invocation_type == "Event":
            return 202, headers, b""
        if invocation_type == "DryRun":
            return 204, headers, b""
        headers.append((b"content-type", b"application/json"))
        if result.function_error:
            headers.append((b"x-amz-function-error", result.function_error.encode()))
        if log_type == "Tail":
            headers.append((b"x-amz-log-result", base64.b64encode(
                result.log_tail.encode()[-4096:])))
        return 200, headers, result.payload


class UnknownOperation(InvokeError):
    """A method or path the Invoke API does not serve: 404 `UnknownOperationException`."""

    status = 404
    error_type = "UnknownOperationException"


def decode_client_context(value: str) -> str:
    """The JSON of `X-Amz-Client-Context` (base64, at most 3,583 bytes); raises BadParameter."""
    if not value:
        return ""
    try:
        text = base64.b64decode(value, validate=True).decode()
        json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadParameter("Client context must be a valid Base64-encoded JSON object.") from None
    return " ".join(text.split("\n"))  # one line: it travels as one Runtime API header


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signal handlers to the main server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def serve_in_background(app: Any, host: str, port: int,
                              limits: ServerLimits | None = None, *,
                              sockets: list[socket.socket] | None = None) -> tuple[
                                  uvicorn.Server, asyncio.Task[None], int]:
    """Start serving `app` on host:port (0: any free port) in this loop, or on `sockets`
    already bound there (`http_server.listen`).

    Returns the server (set `should_exit` to stop it), its task and the bound port.
    Raises OSError when the port cannot be bound (`http_server.cannot_listen` says it).
    """
    server = build_server(app, host, port, limits)
    quiet = QuietServer(server.config)
    if sockets is None:
        sockets = listen(host, port)
    task = asyncio.get_running_loop().create_task(quiet.serve(sockets=sockets))
    while not quiet.started:
        if task.done():
            for sock in sockets:
                sock.close()
            task.result()  # what stopped it, if it raised
            raise OSError(f"could not serve on {host}:{port}")
        await asyncio.sleep(0.01)
    return quiet, task, bound_port(sockets)
