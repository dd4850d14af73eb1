"""The gateway's optional access log: one line per request, with no secret in it."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from shop_local.runtime.gateway.app import RestApiGateway
from shop_local.runtime.gateway.proxy_event import ApiIdentity
from shop_local.runtime.gateway.routes import RouteTable

TOKEN = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


class NoInvoker:
    def submit(self, function_name: str, payload: bytes) -> Any:
        raise AssertionError("a request without a route invokes nothing")


def request(gateway: RestApiGateway, path: str, query: str) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
             "query_string": query.encode(), "headers": [], "http_version": "1.1",
             "client": ("127.0.0.1", 5000)}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(gateway(scope, receive, send))
    return sent


def test_can_log_a_request_without_the_token_in_its_query_string() -> None:
    log = io.StringIO()
    gateway = RestApiGateway(RouteTable({"paths": {}}), NoInvoker(),  # type: ignore[arg-type]
                             ApiIdentity("api", "dev"), access_log=log)
    sent = request(gateway, "/nowhere", f"access_token={TOKEN}&page=2")
    assert sent[0]["status"] == 403
    line = log.getvalue()
    assert TOKEN not in line
    assert '"GET /nowhere?access_token=[redacted]&page=2 HTTP/1.1" 403 ' in line
