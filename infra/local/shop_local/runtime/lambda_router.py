"""The local stack's one Invoke API port: each call goes to the process that runs the function.

    python -m shop_local.runtime.lambda_router [--port 3001] [--registry var/run/lambda]

Every function of the stack runs in exactly one runtime process (its app's service
host, or the MQ emulator for the communication app), in that process's Lambda
service, so HTTP, schedules, MQ mappings and direct invocations share the same pool of
execution environments. Those processes register their own Invoke API endpoint
(`lambda_registry`); this process answers
`POST /2015-03-31/functions/{name}/invocations` on one port by forwarding the request
unchanged to the owner and its answer unchanged to the caller. A function no process
runs is Lambda's 404 `ResourceNotFoundException`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

import requests

from shop_local.paths import RUN
from shop_local.runtime.http_server import build_server, cannot_listen, listen
from shop_local.runtime.invocation import FunctionNotFound, InvokeError
from shop_local.runtime.invoke_api import (
    INVOKE_PATH,
    MAX_BODY_BYTES,
    Receive,
    Send,
    UnknownOperation,
    error_response,
    function_name_of,
    read_body,
    signed_request,
)
from shop_local.runtime.invoke_auth import InvokeAuth, InvokeCredentials
from shop_local.runtime.lambda_registry import owners
from shop_local.runtime.lambda_settings import (
    ACCESS_KEY_VARIABLE,
    SECRET_KEY_VARIABLE,
    LambdaSettings,
    LambdaSettingsError,
)

DEFAULT_REGISTRY = RUN / "lambda"
FORWARD_TIMEOUT_SECONDS = 960  # past Lambda's longest timeout (900 s) and a cold start
# Hop-by-hop, or set by the forwarding client itself: every other header goes unchanged,
# so that the signature the owner checks still matches.
UNFORWARDED_REQUEST_HEADERS = frozenset({b"connection", b"keep-alive", b"transfer-encoding",
                                         b"te", b"upgrade", b"expect", b"content-length"})
FORWARDED_RESPONSE_HEADERS = ("content-type", "x-amz-function-error", "x-amz-log-result",
                              "x-amz-executed-version", "x-amzn-requestid", "x-amzn-errortype")


class InvokeRouter:
    """The ASGI app: check the caller's signature, find the owner in the registry, forward."""

    def __init__(self, registry: Path, credentials: InvokeCredentials) -> None:
        self.registry = registry
        self.auth = InvokeAuth(credentials)
        self._session = requests.Session()

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        try:
            status, headers, body = await self._forward(scope, receive)
        except InvokeError as error:
            status, headers, body = error_response(error)
        except ConnectionResetError:
            return
        await send({"type": "http.response.start", "status": status,
                    "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def _forward(self, scope: dict[str, Any],
                       receive: Receive) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        body = await read_body(receive, MAX_BODY_BYTES)
        self.auth.check(signed_request(scope, body))
        match = INVOKE_PATH.match(scope["path"])
        if match is None or scope["method"] != "POST":
            raise UnknownOperation(f"no such operation: {scope['method']} {scope['path']}")
        query = scope.get("query_string", b"").decode("latin-1")
        qualifier = next((part.split("=", 1)[1] for part in query.split("&")
                          if part.startswith("Qualifier=")), None)
        name = function_name_of(match.group(1), qualifier)
        owner = owners(self.registry).get(name)
        if owner is None:
            raise FunctionNotFound(f"Function not found: {name} (no local runtime process "
                                   "runs it)")
        headers = {key.decode(): value.decode("latin-1") for key, value in scope["headers"]
                   if key not in UNFORWARDED_REQUEST_HEADERS}
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        url = f"{owner}{raw_path}" + (f"?{query}" if query else "")
        response = await asyncio.to_thread(self._session.post, url, data=body, headers=headers,
                                           timeout=FORWARD_TIMEOUT_SECONDS)
        answer = [(key.encode(), response.headers[key].encode("latin-1"))
                  for key in FORWARDED_RESPONSE_HEADERS if key in response.headers]
        return response.status_code, answer, response.content


def main(argv: list[str] | None = None) -> int:
    """The router's command line (see the module doc); serves until interrupted.

    Returns the exit code: 0 after the server stops, 2 for an invalid
    `SHOP_LAMBDA_INVOKE_PORT` or when the stack's Invoke API key is not set, 1 when the port
    cannot be listened on (said on stderr).
    """
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, help="default: SHOP_LAMBDA_INVOKE_PORT or 3001")
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY)
    args = parser.parse_args(argv)
    try:
        port = args.port or LambdaSettings.from_environ().invoke_port
    except LambdaSettingsError as exc:
        print(f"lambda: refusing to start: {exc}", file=sys.stderr)
        return 2
    credentials = InvokeCredentials.from_environ()
    if credentials is None:
        print(f"lambda: refusing to start: {ACCESS_KEY_VARIABLE} and {SECRET_KEY_VARIABLE} "
              "are not set (`shop up` generates them into .env)", file=sys.stderr)
        return 2
    try:
        sockets = listen(args.host, port)
    except OSError as exc:
        setting = "--port" if args.port else "SHOP_LAMBDA_INVOKE_PORT"
        print(f"lambda: refusing to start: {cannot_listen(exc, args.host, port, setting)}",
              file=sys.stderr)
        return 1
    server = build_server(InvokeRouter(args.registry.resolve(), credentials), args.host, port)
    print(f"lambda: Invoke API on http://{args.host}:{port} (functions registered in "
          f"{args.registry})", flush=True)
    asyncio.run(server.serve(sockets=sockets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
