"""The Lambda Runtime API over HTTP, for environments that need the real protocol.

https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html: the environment runs
`python -m awslambdaric <handler>` with `AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>` and
polls this API, exactly as in AWS:

- `GET /2018-06-01/runtime/invocation/next` waits for an invocation and answers the
  event with `Lambda-Runtime-Aws-Request-Id`, `-Deadline-Ms`, `-Invoked-Function-Arn`,
  `-Trace-Id`, `-Client-Context`, `-Cognito-Identity`; its first call ends the init phase;
- `POST /2018-06-01/runtime/invocation/{id}/response` and `.../{id}/error`
  (`Lambda-Runtime-Function-Error-Type`) settle the invocation;
- `POST /2018-06-01/runtime/init/error` reports a failed init.

Each environment gets its own endpoint (a uvicorn server on a free loopback port in the
Lambda service's loop), as each Lambda sandbox has its own. Selected with
`SHOP_LAMBDA_TRANSPORT=http`; the socket transport (`lambda_wire`) carries the same
messages with one frame each way.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from typing import Any

from shop_local.runtime.environment import ChannelSetup, ExecutionEnvironment, Invocation
from shop_local.runtime.invocation import SYNC_PAYLOAD_LIMIT_BYTES
from shop_local.runtime.invoke_api import QuietServer, Receive, Send, read_body

PREFIX = "/2018-06-01/runtime"
RESULT_PATH = re.compile(rf"^{PREFIX}/invocation/([^/]+)/(response|error)$")
ACCEPTED = (202, [(b"content-type", b"application/json")], b'{"status":"OK"}')


def peak_rss_kb(pid: int) -> int:
    """The process's peak resident memory (`VmHWM`), 0 when unknown."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class RuntimeApiChannel:
    """One environment's Runtime API endpoint (see the module doc); also its ASGI app."""

    def __init__(self, environment: ExecutionEnvironment) -> None:
        self._environment = environment
        self._pending: asyncio.Queue[tuple[Invocation, str] | None] = asyncio.Queue()
        self._server: QuietServer | None = None

    @classmethod
    async def create(cls, environment: ExecutionEnvironment) -> ChannelSetup:
        """Serve a Runtime API endpoint for one environment on a free loopback port.

        The process runs `python -m awslambdaric <handler>` with `AWS_LAMBDA_RUNTIME_API` set to
        `127.0.0.1:<port>`.
        """
        from shop_local.runtime.invoke_api import serve_in_background

        channel = cls(environment)
        server, _task, port = await serve_in_background(channel, "127.0.0.1", 0)
        channel._server = server  # type: ignore[assignment]
        return ChannelSetup(channel, [sys.executable, "-m", "awslambdaric",
                                      environment.spec.handler],
                            {"AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}"})

    def send_invocation(self, invocation: Invocation, function_arn: str) -> None:
        """Queue `invocation` for the runtime's next `GET /runtime/invocation/next`; no waiting."""
        self._pending.put_nowait((invocation, function_arn))

    def close(self) -> None:
        """End a waiting `next` and stop the endpoint's server; the process sees its API gone."""
        self._pending.put_nowait(None)  # ends a waiting `next`, so the server stops at once
        if self._server is not None:
            self._server.should_exit = True

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        try:
            status, headers, body = await self._handle(scope, receive)
        except asyncio.CancelledError:
            return  # the environment is gone and its endpoint shuts down
        await send({"type": "http.response.start", "status": status,
                    "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def _handle(self, scope: dict[str, Any], receive: Receive) -> tuple[
            int, list[tuple[bytes, bytes]], bytes]:
        path, method = scope["path"], scope["method"]
        environment = self._environment
        if method == "GET" and path == f"{PREFIX}/invocation/next":
            environment.on_ready()
            pending = await self._pending.get()
            if pending is None:
                return self._error(410, "the environment is shut down")
            invocation, arn = pending
            headers = [(b"content-type", b"application/json"),
                       (b"lambda-runtime-aws-request-id", invocation.request_id.encode()),
                       (b"lambda-runtime-deadline-ms", str(invocation.deadline_ms).encode()),
                       (b"lambda-runtime-invoked-function-arn", arn.encode()),
                       (b"lambda-runtime-trace-id", invocation.trace_id.encode())]
            if invocation.client_context:
                headers.append((b"lambda-runtime-client-context",
                                invocation.client_context.encode()))
            if invocation.cognito_identity:
                headers.append((b"lambda-runtime-cognito-identity",
                                invocation.cognito_identity.encode()))
            return 200, headers, invocation.payload
        if method != "POST":
            return self._error(404, "not found")
        try:
            # Read past the limit so that an oversized response becomes Lambda's error.
            body = await read_body(receive, SYNC_PAYLOAD_LIMIT_BYTES * 2)
        except Exception:  # too large even for that, or the client went away
            body = b""
        if path == f"{PREFIX}/init/error":
            environment.on_init_error(body)
            return ACCEPTED
        match = RESULT_PATH.match(path)
        if match is None:
            return self._error(404, "not found")
        error_type = None
        if match.group(2) == "error":
            error_type = next((value.decode() for key, value in scope["headers"]
                               if key == b"lambda-runtime-function-error-type"), "Unhandled")
        environment.on_result(match.group(1), body, peak_rss_kb(environment.pid), error_type)
        return ACCEPTED

    @staticmethod
    def _error(status: int, message: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        return status, [(b"content-type", b"application/json")], json.dumps(
            {"errorMessage": message, "errorType": "InvalidRequest"}).encode()

