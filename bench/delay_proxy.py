"""An HTTP reverse proxy that answers every call `delay` seconds late: a slow dependency
made without touching the app (the product service is pointed at it by its settings).
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.stack import free_port

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    upstream: tuple[str, int]
    delay: float


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        time.sleep(self.server.delay)
        upstream = self._upstream()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            upstream.close()
            self.send_error(502)
            return
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP | {"content-length"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _upstream(self) -> http.client.HTTPConnection:
        # One kept-alive upstream connection per client connection (this handler's thread).
        if not hasattr(self, "_connection"):
            host, port = self.server.upstream
            self._connection = http.client.HTTPConnection(host, port, timeout=30)
        return self._connection

    do_GET = do_POST = do_PUT = do_DELETE = _forward  # the stdlib's naming

    def log_message(self, format: str, *args: Any) -> None:  # the stdlib signature
        pass


@contextmanager
def delaying(upstream_port: int, delay: float) -> Iterator[str]:
    """Serve the proxy on a free port; yield its base URL."""
    server = _Server(("127.0.0.1", free_port()), _Handler)
    server.upstream = ("127.0.0.1", upstream_port)
    server.delay = delay
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
