"""The service processes keep connections alive and fast: TCP_NODELAY on every accepted socket.

Without TCP_NODELAY, a response written in two pieces (headers, then body) meets Nagle's
algorithm and the client's delayed ACK, and every request on a reused connection
stalls ~40 ms, as with stock `chalice local`. No timing is asserted here; `python -m
bench` measures it.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
from typing import Any

import pytest
from chalice.app import Chalice
from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalDevServer, ThreadedHTTPServer

from shop_local.runtime.http_server import ServerLimits, build_server
from tests.support.client import ShopClient
from tests.support.stack import free_port

pytestmark = pytest.mark.integration


def test_two_hundred_requests_on_one_reused_connection(user_service: ShopClient) -> None:
    port = int(user_service.base_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    statuses, local_ends, bodies = [], set(), set()
    try:
        for _ in range(200):
            connection.request("GET", "/.well-known/jwks.json")
            response = connection.getresponse()
            bodies.add(response.read())
            statuses.append(response.status)
            assert connection.sock is not None, "the server closed the connection"
            local_ends.add(connection.sock.getsockname())
    finally:
        connection.close()
    assert statuses == [200] * 200
    assert len(local_ends) == 1  # one TCP connection served all 200
    assert len(bodies) == 1 and b'"keys"' in bodies.pop()


def trivial_app() -> Chalice:
    app = Chalice(app_name="nodelay-test")

    @app.route("/")
    def index() -> dict[str, bool]:
        return {"ok": True}

    return app


def recording(handler_cls: Any, seen: list[int]) -> Any:
    """The handler class, noting TCP_NODELAY of each accepted socket once it is set up."""

    class Recording(handler_cls):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            super().setup()
            seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    return Recording


def stock_nodelay_of_accepted_sockets() -> list[int]:
    seen: list[int] = []
    server = LocalDevServer(
        trivial_app(), Config.create(app_name="nodelay-test"), "127.0.0.1", 0,
        handler_cls=recording(ChaliceRequestHandler, seen), server_cls=ThreadedHTTPServer,
    )
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        port = int(server.server.server_address[1])
        for _ in range(2):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/")
            assert connection.getresponse().status == 200
            connection.close()
    finally:
        server.shutdown()
        server.server.server_close()
        thread.join(10)
    return seen


async def ok(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def gateway_nodelay_of_accepted_sockets() -> list[int]:
    """TCP_NODELAY of the sockets the gateway's HTTP server accepts (as `shop up` runs it)."""
    seen: list[int] = []
    port = free_port()
    server = build_server(ok, "127.0.0.1", port, ServerLimits())
    server.config.load()

    class Recording(server.config.http_protocol_class):  # type: ignore[misc, name-defined]
        def connection_made(self, transport: Any) -> None:
            sock = transport.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            super().connection_made(transport)

    server.config.http_protocol_class = Recording

    async def run() -> None:
        serving = asyncio.ensure_future(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        for _ in range(2):
            await asyncio.to_thread(fetch, port)
        server.should_exit = True
        await serving

    asyncio.run(run())
    return seen


def fetch(port: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/")
    assert connection.getresponse().status == 200
    connection.close()


def test_every_accepted_socket_has_tcp_nodelay() -> None:
    assert [bool(v) for v in gateway_nodelay_of_accepted_sockets()] == [True, True]
    # The stock handler leaves Nagle on: one reason the shop does not serve through it.
    assert [bool(v) for v in stock_nodelay_of_accepted_sockets()] == [False, False]


def test_the_gateway_server_has_a_deep_backlog() -> None:
    server = build_server(ok, "127.0.0.1", 0)
    assert server.config.backlog >= 128
