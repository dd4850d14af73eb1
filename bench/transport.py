"""In-thread HTTP servers for one trivial Chalice app: stock `chalice local`, or the same
with TCP_NODELAY and a deep backlog (what the shop's host was before it moved to the
local API Gateway on uvicorn).

Both run the same app through the same `chalice.local.LocalDevServer`; only the
handler and server classes differ, so any difference measured is the transport.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    ThreadedHTTPServer,
)


class ShopRequestHandler(ChaliceRequestHandler):
    """The stock handler with Nagle's algorithm off (set in StreamRequestHandler.setup)."""

    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # the stdlib signature
        pass


class ShopHTTPServer(ThreadedHTTPServer):
    request_queue_size = 256
    allow_reuse_address = True


class QuietChaliceRequestHandler(ChaliceRequestHandler):
    """The stock handler with its per-request stderr line silenced (ours writes none either)."""

    def log_message(self, format: str, *args: Any) -> None:  # the stdlib signature
        pass


@dataclass(frozen=True)
class Transport:
    name: str
    handler_cls: Any
    server_cls: Any


STOCK = Transport("stock chalice local", QuietChaliceRequestHandler, ThreadedHTTPServer)
SHOP = Transport("chalice local + TCP_NODELAY", ShopRequestHandler, ShopHTTPServer)


def build_app() -> Chalice:
    """A trivial app (no database, no middleware): only the transport is measured."""
    app = Chalice(app_name="bench")

    @app.route("/ping")
    def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


@contextmanager
def serving(transport: Transport) -> Iterator[int]:
    """Serve a fresh app on a free 127.0.0.1 port in a thread; yield the port."""
    app = build_app()
    # What `chalice.local.create_local_server` does: per-thread `current_request`.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    server = LocalDevServer(
        app, Config.create(app_name="bench"), "127.0.0.1", 0,
        handler_cls=transport.handler_cls, server_cls=transport.server_cls,
    )
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server.server_address[1])
    finally:
        server.shutdown()
        server.server.server_close()
        thread.join(10)
