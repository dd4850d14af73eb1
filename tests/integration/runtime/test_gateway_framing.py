"""The gateway's HTTP server refuses malformed framing, never runs a request hidden behind
it, refuses oversized requests without reading them, and closes slow or half-open
connections, while it keeps answering everyone else. Real `shop serve` process, loopback."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import requests

from tests.integration.runtime.gateway_support import (
    PROBE_APP,
    ServedProject,
    raw_exchange,
    serve,
)
from tests.support.polling import wait_until

pytestmark = pytest.mark.integration

HEADER_TIMEOUT = 2.0
HIDDEN = b"GET /record/hidden HTTP/1.1\r\nHost: probe\r\n\r\n"


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedProject]:
    served = serve(PROBE_APP, tmp_path_factory.mktemp("framing"), "--no-autoreload",
                   SHOP_GATEWAY_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
                   SHOP_GATEWAY_BODY_TIMEOUT_SECONDS=str(HEADER_TIMEOUT))
    try:
        yield served
    finally:
        served.stop()


def front(headers: bytes, body: bytes = b"") -> bytes:
    return b"POST /record/front HTTP/1.1\r\nHost: probe\r\n" + headers + b"\r\n" + body + HIDDEN


@pytest.mark.parametrize("request_bytes", [
    pytest.param(front(b"Content-Length: -1\r\n"), id="negative-content-length"),
    pytest.param(front(b"Content-Length: abc\r\n"), id="non-numeric-content-length"),
    pytest.param(front(b"Content-Length: 0\r\nContent-Length: 46\r\n"), id="two-content-lengths"),
    pytest.param(front(b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
                       b"5\r\nhello\r\n0\r\n\r\n"), id="content-length-and-chunked"),
    pytest.param(front(b"Transfer-Encoding: chunked\r\nContent-Length: 60\r\n",
                       b"0\r\n\r\n"), id="chunked-and-content-length"),
    pytest.param(front(b"Transfer-Encoding: xchunked\r\n", b"0\r\n\r\n"),
                 id="unknown-transfer-coding"),
    pytest.param(front(b"Content-Length : 46\r\n"), id="space-before-colon"),
])
def test_malformed_framing_is_400_and_the_hidden_request_never_runs(
    probe: ServedProject, request_bytes: bytes
) -> None:
    exchange = raw_exchange(probe.port, request_bytes)
    assert exchange.statuses == [400], exchange.data
    assert exchange.closed
    # The route records every call it serves: neither request ran.
    assert requests.get(probe.url + "/ping", timeout=10).status_code == 200
    assert "hidden" not in probe.recorded() and "front" not in probe.recorded()


def test_a_well_framed_pipelined_pair_both_run(probe: ServedProject) -> None:
    exchange = raw_exchange(probe.port, b"GET /record/first HTTP/1.1\r\nHost: probe\r\n\r\n"
                            b"GET /record/second HTTP/1.1\r\nHost: probe\r\n"
                            b"Connection: close\r\n\r\n")
    assert exchange.statuses == [200, 200]
    assert {"first", "second"} <= set(probe.recorded())


def test_a_chunked_body_is_decoded(probe: ServedProject) -> None:
    exchange = raw_exchange(probe.port, b"POST /record/chunked HTTP/1.1\r\nHost: probe\r\n"
                            b"Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
                            b"Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    assert exchange.statuses == [200]
    assert b'"length": 11' in exchange.data or b'"length":11' in exchange.data


def test_head_is_missing_authentication_token(probe: ServedProject) -> None:
    response = requests.head(probe.url + "/ping", timeout=10)
    assert response.status_code == 403
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert response.content == b""


def unknown_route_with_body(body_bytes: int) -> bytes:
    return (b"POST /no-such-route HTTP/1.1\r\nHost: probe\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % body_bytes
            + b"x" * body_bytes)


@pytest.mark.parametrize("body_bytes", [200_000, 2_000_000])
def test_an_unknown_route_with_a_large_body_gets_one_answer(probe: ServedProject,
                                                             body_bytes: int) -> None:
    # The 403 goes out before the body is read; the rest of the body is no header section
    # of a next request (it once drew a second, unsolicited 431 on the same connection).
    exchange = raw_exchange(probe.port, unknown_route_with_body(body_bytes))
    assert exchange.statuses == [403], exchange.data[:600]


def test_a_request_after_a_body_answered_early_is_served(probe: ServedProject) -> None:
    exchange = raw_exchange(probe.port, unknown_route_with_body(200_000)
                            + b"GET /record/after-early HTTP/1.1\r\nHost: probe\r\n"
                              b"Connection: close\r\n\r\n")
    assert exchange.statuses == [403, 200], exchange.data[:600]
    assert "after-early" in probe.recorded()


def test_a_body_over_10_mb_is_413_before_it_is_read(probe: ServedProject) -> None:
    with socket.create_connection(("127.0.0.1", probe.port), timeout=20) as sock:
        sock.sendall(b"POST /record/big HTTP/1.1\r\nHost: probe\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: 11000000\r\n\r\n" + b"a" * 65536)
        answer = b""
        # The head and the body may come in two segments; the server then closes: the
        # other 10.9 MB are never read.
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b'{"message":"Request Too Long"}' in answer
    assert "big" not in probe.recorded()


def test_a_chunked_body_over_10_mb_is_413(probe: ServedProject) -> None:
    chunk = b"a" * (1024 * 1024)
    def body() -> Iterator[bytes]:
        for _ in range(11):
            yield chunk
    response = requests.post(probe.url + "/record/bigchunked", data=body(), timeout=60,
                             headers={"Content-Type": "text/plain"})
    assert response.status_code == 413
    assert "bigchunked" not in probe.recorded()


def test_an_oversized_header_section_is_431(probe: ServedProject) -> None:
    exchange = raw_exchange(probe.port, b"GET /ping HTTP/1.1\r\nHost: probe\r\nX-Big: "
                            + b"a" * 100_000 + b"\r\n\r\n")
    assert exchange.statuses == [431] and exchange.closed


def test_an_oversized_request_target_is_414_not_431(probe: ServedProject) -> None:
    # RFC 9110 §15.5.15: a target longer than the server will interpret is 414 URI Too Long.
    exchange = raw_exchange(probe.port, b"GET /ping?q=" + b"a" * 100_000
                            + b" HTTP/1.1\r\nHost: probe\r\n\r\n")
    assert exchange.statuses == [414] and exchange.closed


def test_a_small_target_with_large_header_fields_is_431(probe: ServedProject) -> None:
    exchange = raw_exchange(probe.port, b"GET /ping?q=" + b"a" * 10_000
                            + b" HTTP/1.1\r\nHost: probe\r\nX-Big: " + b"b" * 10_000
                            + b"\r\n\r\n")
    assert exchange.statuses == [431] and exchange.closed


def test_a_body_that_stops_arriving_is_408(probe: ServedProject) -> None:
    exchange = raw_exchange(probe.port, b"POST /record/slow HTTP/1.1\r\nHost: probe\r\n"
                            b"Content-Type: text/plain\r\nContent-Length: 100\r\n\r\n0123456789",
                            wait=HEADER_TIMEOUT * 10)
    assert exchange.statuses == [408] and exchange.closed
    assert "slow" not in probe.recorded()


def test_half_open_connections_are_closed_within_the_header_timeout(probe: ServedProject) -> None:
    sockets = []
    for index in range(60):
        sock = socket.create_connection(("127.0.0.1", probe.port), timeout=10)
        if index % 2:  # half of them send half a request, the others nothing at all
            sock.sendall(b"GET /ping HTTP/1.1\r\nHost: probe\r\n")
        sock.setblocking(False)
        sockets.append(sock)
    opened = time.monotonic()
    open_ones = set(range(60))
    answered = 0
    try:
        def all_closed() -> bool:
            nonlocal answered
            for index in list(open_ones):
                try:
                    if sockets[index].recv(4096) == b"":
                        open_ones.discard(index)
                except BlockingIOError:
                    pass
                except ConnectionResetError:
                    open_ones.discard(index)
            # Everyone else is still served meanwhile.
            answered += requests.get(probe.url + "/ping", timeout=10).status_code == 200
            return not open_ones

        wait_until(all_closed, 60, interval=0.2, what="half-open connections closed")
    finally:
        for sock in sockets:
            sock.close()
    assert time.monotonic() - opened >= HEADER_TIMEOUT * 0.9  # closed by the timeout
    assert answered >= 1
