"""The floors: raw apps on bare HTTP servers, what no runtime on that server can beat.

`python -m bench.floors --server SERVER --app ping|redis-get --port N`, SERVER one of
http.server, uvicorn, granian, hypercorn.

- `ping` answers `{"ok": true}`, as the trivial Chalice route does;
- `redis-get` answers the value of one Redis key (`BENCH_REDIS_URL`, `BENCH_REDIS_KEY`):
  one round trip, as a catalog cache hit needs at best.

`http.server` is the stdlib's ThreadingHTTPServer with the shop host's settings
(HTTP/1.1 keep-alive, TCP_NODELAY, backlog 256); `uvicorn` runs the ASGI app with
httptools (and uvloop); `granian` runs it on its Rust server, one worker; `hypercorn`
(not installed by the bench extra: only when the runtime chooses it) one worker.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Awaitable, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PING_BODY = json.dumps({"ok": True}).encode()
SERVERS = ("http.server", "uvicorn", "granian", "hypercorn")
APPS = ("ping", "redis-get")

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def redis_settings() -> tuple[str, str]:
    return os.environ["BENCH_REDIS_URL"], os.environ["BENCH_REDIS_KEY"]


# --- http.server ------------------------------------------------------------------

class FloorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True


def threaded_handler(app: str) -> type[BaseHTTPRequestHandler]:
    fetch: Callable[[], bytes] = lambda: PING_BODY  # noqa: E731
    if app == "redis-get":
        import redis

        url, key = redis_settings()
        client = redis.Redis.from_url(url)

        def fetch() -> bytes:
            return client.get(key) or b"null"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # the stdlib's naming
            body = fetch()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # the stdlib signature
            pass

    return Handler


# --- ASGI (uvicorn, granian) ------------------------------------------------------

async def _answer(send: Send, body: bytes) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def ping_asgi(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await _answer(send, PING_BODY)


_redis_client: Any = None


async def redis_get_asgi(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    global _redis_client
    if scope["type"] != "http":
        return
    import redis.asyncio

    url, key = redis_settings()
    if _redis_client is None:
        _redis_client = redis.asyncio.Redis.from_url(url)
    await _answer(send, await _redis_client.get(key) or b"null")


ASGI_APPS = {"ping": "ping_asgi", "redis-get": "redis_get_asgi"}


def serve(server: str, app: str, port: int) -> None:
    if server == "http.server":
        FloorServer(("127.0.0.1", port), threaded_handler(app)).serve_forever()
    elif server == "uvicorn":
        import uvicorn

        uvicorn.run(f"bench.floors:{ASGI_APPS[app]}", host="127.0.0.1", port=port,
                    http="httptools", log_level="warning", access_log=False)
    elif server == "granian":
        os.execv(sys.executable, [  # noqa: S606 (a fixed argument list, no shell)
            sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
            "--port", str(port), "--workers", "1", "--log-level", "warning",
            f"bench.floors:{ASGI_APPS[app]}",
        ])
    else:
        os.execv(sys.executable, [  # noqa: S606 (a fixed argument list, no shell)
            sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
            f"bench.floors:{ASGI_APPS[app]}",
        ])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=SERVERS, required=True)
    parser.add_argument("--app", choices=APPS, default="ping")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    serve(args.server, args.app, args.port)


if __name__ == "__main__":
    main()
