"""The HTTP server of the local runtime: uvicorn with httptools (llhttp), plus the two guards
it lacks.

Chosen by measurement on this machine (a trivial ASGI app, one worker, wrk; see the
README's runtime section): uvicorn+httptools answered every malformed-framing probe
(`Content-Length: -1`, `abc`, duplicated, with `Transfer-Encoding`, an unknown transfer
coding, bare LF, NUL in a chunk extension) with 400 and a closed connection and never ran
the request hidden behind it; granian ran two of them and hypercorn (h11) four. uvicorn
was also the fastest at one connection and runs inside the caller's asyncio loop, so the
gateway, the Lambda service and the schedules share one loop and one process.

What uvicorn does not do, added here as a subclass of its httptools protocol (no HTTP is
parsed here: llhttp still parses everything; this only watches the parser's callbacks):

- a **header-read timeout**: a connection must complete a request's header section
  within `header_timeout` seconds of opening (or of its first byte after a response).
  uvicorn's only timer is the keep-alive one, armed after a response, so a connection
  that sends nothing or half a header section stays open forever. On expiry the
  connection is closed, after a 408 when part of a request had arrived
  (RFC 9110 §15.5.9).
- a **header-size limit**: at most `max_header_bytes` of request line and header fields;
  past it the connection is refused and closed: 414 (RFC 9110 §15.5.15) when the
  request-target alone is over the limit, else 431 (RFC 6585 §5). llhttp itself has no
  limit; which part is too long is known from its callbacks (`on_url`, which llhttp also
  calls with the part of a target received so far, and `on_header`).

- a **lingering close**: when the server closes a connection whose client is still
  sending (a refused oversized body, a 431, a 400), closing at once would make the
  kernel reset the connection and the client could lose the answer; instead writing is
  shut down (FIN) and what still arrives is read and dropped for up to
  `LINGER_SECONDS` / `LINGER_BYTES`, as nginx's `lingering_close` does.
- **one write per response**: uvicorn writes a response's head and its body with two
  `write` calls, which on a kept-alive connection are two TCP segments and, at one
  connection, two wake-ups of the client for one answer. The head is held until the
  body's write (or the end of the loop iteration, for a body that is streamed later)
  and both go out in one system call.

The idle (keep-alive) timeout is uvicorn's own `timeout_keep_alive`.

ASGI lower-cases header names; API Gateway hands functions the names as the client
spelled them, so the protocol also keeps the spelled names, in order, in the scope's
`extensions[RAW_HEADER_NAMES]["names"]` (one per entry of `scope["headers"]`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, cast

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from shop_common.setting_values import MAX_PORT

log = logging.getLogger("shop.http")

# Which server this is, for `make bench` to measure the raw floor of the same one.
HTTP_SERVER = "uvicorn"
RAW_HEADER_NAMES = "shop.raw_header_names"
LINGER_SECONDS = 2.0
LINGER_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ServerLimits:
    """Connection limits: seconds and bytes."""

    header_timeout: float = 10.0
    idle_timeout: float = 5.0
    max_header_bytes: int = 16 * 1024
    backlog: int = 2048


ErrorRenderer = Callable[[int, str], tuple[str, bytes]]


def plain_error(status: int, reason: str) -> tuple[str, bytes]:
    """The server's own refusals as text, uvicorn's way: `(content type, body)`."""
    return "text/plain; charset=utf-8", reason.encode()


def _reject(transport: asyncio.Transport, status: int, reason: str,
            render: ErrorRenderer = plain_error) -> None:
    """Answer the connection's last request with `status` and close the connection."""
    if transport.is_closing():
        return
    content_type, body = render(status, reason)
    phrase = HTTPStatus(status).phrase.encode()
    transport.write(
        b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n"
        b"connection: close\r\n\r\n%s"
        % (status, phrase, content_type.encode("latin-1"), len(body), body))
    transport.close()


class LingeringTransport:
    """The connection's transport, whose `close()` lingers and which sends a response's
    head with its body (see the module doc)."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None  # a response head waiting for its body
        self.lingering = False
        self.dropped = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def write(self, data: bytes) -> None:
        """Write `data`, sending uvicorn's response head together with the first body part.

        The head is held until the next write or the end of this loop iteration, whichever
        comes first, so that a response usually leaves in one system call.
        """
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head + data)
        elif data.startswith(b"HTTP/1.1 ") and data.endswith(b"\r\n\r\n"):
            # uvicorn's head of a response (its body comes in the next write).
            self._head = data
            self._loop.call_soon(self._flush_head)
        else:
            self._transport.write(data)

    def _flush_head(self) -> None:
        head = self._head
        if head is not None:
            self._head = None
            if not self._transport.is_closing():
                self._transport.write(head)

    def get_write_buffer_size(self) -> int:
        """How many bytes wait to be sent, counting a held response head."""
        return self._transport.get_write_buffer_size() + len(self._head or b"")

    def is_closing(self) -> bool:
        """True once `close` has begun lingering, or the real transport is closing."""
        return self.lingering or self._transport.is_closing()

    def close(self) -> None:
        """Close with a lingering close (see the module doc).

        Sends the held head and a FIN, then reads and drops what the client still sends
        for up to `LINGER_SECONDS` (2 s) or `LINGER_BYTES` (16 MiB) before closing. A
        transport that cannot half-close is closed at once. Repeated calls do nothing.
        """
        if self.lingering or self._transport.is_closing():
            return
        self._flush_head()
        self.lingering = True
        if self._transport.can_write_eof():
            self._transport.write_eof()
            self._transport.resume_reading()  # uvicorn may have paused it: drain instead
            self._loop.call_later(LINGER_SECONDS, self._transport.close)
        else:
            self._transport.close()

    def drop(self, data: bytes) -> None:
        """What a lingering connection still receives is dropped, up to a limit."""
        self.dropped += len(data)
        if self.dropped > LINGER_BYTES:
            self._transport.close()

    def abort(self) -> None:
        """Close at once, dropping a held head and whatever is still unsent."""
        self._head = None
        self._transport.abort()


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header-read timeout and a header-size limit."""

    limits = ServerLimits()  # replaced per server by `guarded_protocol`
    _body_arriving = False  # the parsed request's body has not all arrived yet
    render_error: ErrorRenderer = staticmethod(plain_error)  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._awaiting_headers = True  # no request whose header section is complete
        self._pending_bytes = 0  # bytes received while awaiting a header section
        self._header_bytes = 0  # request line + fields of the request being parsed
        self._target_bytes = 0  # the request-target of the request being parsed
        self._raw_names: list[bytes] = []

    # --- the connection's life ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._lingering = LingeringTransport(cast(asyncio.Transport, transport), self.loop)
        super().connection_made(self._lingering)  # type: ignore[arg-type]
        self._arm_header_timer()  # covers a connection that never sends a byte

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering.lingering:
            self._lingering.drop(data)
            return
        self._unset_keepalive_if_required()
        if self._awaiting_headers:
            self._pending_bytes += len(data)
            if self._header_timer is None:
                self._arm_header_timer()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError:
            return  # a callback rejected the request and closed the connection
        except httptools.HttpParserError:
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        # Still inside one header section after this chunk: everything pending is header.
        if self._awaiting_headers and self._pending_bytes > self.limits.max_header_bytes:
            self._too_large()

    # --- parser callbacks ---------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._header_bytes = 0
        self._target_bytes = 0
        self._body_arriving = True
        super().on_message_begin()
        self._raw_names = []
        self.scope["extensions"] = {RAW_HEADER_NAMES: {"names": self._raw_names}}

    def on_url(self, url: bytes) -> None:
        self._header_bytes += len(url)
        self._target_bytes += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4  # ": " and CRLF
        self._raw_names.append(name)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._header_bytes > self.limits.max_header_bytes:
            self._too_large()
            raise ConnectionAbortedError("header section too large")  # stops the parser
        self._awaiting_headers = False
        self._pending_bytes = 0
        self._cancel_header_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._body_arriving = False
        answered_early = self.cycle.response_complete  # e.g. a 403 before the body was read
        super().on_message_complete()
        if answered_early and not self.pipeline:
            self._await_next_header_section()
            if self._header_timer is None:  # the keep-alive timer was cancelled by the body
                self._arm_header_timer()

    def on_response_complete(self) -> None:
        # The next request's header section starts being awaited (its timer starts with
        # its first byte; until then uvicorn's keep-alive timer covers the idle connection),
        # but not before this request's body has arrived: counted as header bytes, the rest
        # of a body answered early would get a second, unsolicited answer (431).
        if not self.pipeline and not self._body_arriving:
            self._await_next_header_section()
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        # uvicorn's own answer to what llhttp refuses, in the server's error format.
        _reject(self.transport, 400, msg, self.render_error)

    # --- the guards ---------------------------------------------------------------------

    def _await_next_header_section(self) -> None:
        self._awaiting_headers = True
        self._pending_bytes = 0

    def _too_large(self) -> None:
        self._cancel_header_timer()
        limit = self.limits.max_header_bytes
        if self._target_bytes > limit:
            self.logger.warning("Request-target over %d bytes.", limit)
            _reject(self.transport, 414, "URI Too Long", self.render_error)
        else:
            self.logger.warning("Request header section over %d bytes.", limit)
            _reject(self.transport, 431, "Request Header Fields Too Large", self.render_error)

    def _arm_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self.limits.header_timeout,
                                                  self._header_timeout_expired)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout_expired(self) -> None:
        self._header_timer = None
        if not self._awaiting_headers or self.transport.is_closing():
            return
        if self._pending_bytes:
            _reject(self.transport, 408, "Request Timeout", self.render_error)
        else:
            self.transport.close()


def guarded_protocol(limits: ServerLimits,
                     render_error: ErrorRenderer = plain_error) -> type[GuardedHttpToolsProtocol]:
    """The protocol class for one server's limits (uvicorn instantiates it per connection)."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,),
                {"limits": limits, "render_error": staticmethod(render_error)})


def build_server(app: Any, host: str, port: int, limits: ServerLimits | None = None,
                 *, access_log: bool = False,
                 render_error: ErrorRenderer = plain_error) -> uvicorn.Server:
    """A uvicorn server for `app` (ASGI 3) on host:port; run it with `await server.serve()`.

    While it serves, SIGINT/SIGTERM is a graceful stop (`server.should_exit = True` stops it
    too), and `serve()` then returns, so the caller's clean-up runs (`StoppingServer`).
    The lifespan protocol is off: the caller starts and stops what the app needs.
    `X-Forwarded-*` headers are not trusted (uvicorn's proxy-headers middleware is off):
    the client's address is the connection's peer, as `sourceIp` is in API Gateway, and
    a local client cannot pose as another address by sending the header.
    `render_error(status, reason)` gives the body of the server's own refusals (400 for
    what llhttp refuses, 408, 414, 431): `(content type, bytes)`, text by default.
    """
    limits = limits or ServerLimits()
    config = uvicorn.Config(
        app, host=host, port=port, http=guarded_protocol(limits, render_error), loop="none",
        lifespan="off", ws="none", interface="asgi3", access_log=access_log,
        log_config=None, server_header=False, date_header=True, proxy_headers=False,
        timeout_keep_alive=max(1, round(limits.idle_timeout)), backlog=limits.backlog,
        timeout_graceful_shutdown=5,
    )
    return StoppingServer(config)


def listen(host: str, port: int, backlog: int = ServerLimits.backlog) -> list[socket.socket]:
    """Sockets listening on `port` (0: a free one) on every address `host` resolves to, bound
    as asyncio's `create_server` binds them (SO_REUSEADDR; an IPv6 socket IPv6 only), for
    `server.serve(sockets=...)`, which serves them and closes them when it stops.

    Bound here, before anything starts, so that a port that cannot be bound is an OSError
    the caller can say (`cannot_listen`): inside uvicorn it is a `sys.exit` from its
    serving task, which the event loop raises past the caller with a traceback. Raises
    OSError (EADDRINUSE when something else holds the port; socket.gaierror for an unknown
    host; EINVAL for a port past 65535), every socket opened so far closed.
    """
    if not 0 <= port <= MAX_PORT:  # getaddrinfo would take 70000 as 70000 % 65536
        raise OSError(errno.EINVAL, f"{port} is not a port number (0 to {MAX_PORT})")
    bound: list[socket.socket] = []
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
        for family, kind, proto, _name, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            bound.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(backlog)  # two sockets may bind one port with SO_REUSEADDR, not listen
    except OSError:
        for sock in bound:
            sock.close()
        raise
    return bound


def bound_port(sockets: list[socket.socket]) -> int:
    """The port `listen`'s sockets are bound to (the free one it was given for port 0)."""
    return int(sockets[0].getsockname()[1])


def cannot_listen(exc: OSError, host: str, port: int, setting: str) -> str:
    """What to say when `listen(host, port)` raised `exc`; `setting` is where the port came
    from (`--lambda-port`, SHOP_LAMBDA_INVOKE_PORT), named as what to change.
    """
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} ({setting}) is in use on {host}: choose another with {setting}, "
                "or stop what holds it")
    return f"cannot listen on {host}:{port} ({setting}): {exc.strerror or exc}"


class StoppingServer(uvicorn.Server):
    """uvicorn's server, except that a SIGINT/SIGTERM that stopped it is not raised again.

    uvicorn re-raises such a signal once serving ends, so its default action ends the
    process there and then: the caller's clean-up after `serve()` (stopping the execution
    environments, removing their temporary folders) never ran. Here the process goes on
    to that clean-up and exits normally.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Turn SIGINT/SIGTERM into a graceful stop while serving (main thread only), then
        restore the previous handlers."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
