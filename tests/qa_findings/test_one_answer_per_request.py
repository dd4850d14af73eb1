"""QA finding: a request the gateway refuses before reading its body gets two answers.

API Gateway's own 403 for an unknown route is sent before the body is read. When that
body is a few hundred kilobytes, the gateway's HTTP server then writes a second,
unsolicited response on the same connection: `431 Request Header Fields Too Large`.
One request, two status lines; a client or proxy reusing the connection would take
the 431 as the answer to its next request.

Seen on the live stack (product service, 8002):

    POST /nowhere HTTP/1.1 / Content-Length: 200000 / 200000 x "x"
    -> HTTP/1.1 403 Forbidden ... HTTP/1.1 431 Request Header Fields Too Large, closed
    (20,000 and 70,000 bytes: the 403 alone)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.runtime.gateway_support import (
    PROBE_APP,
    ServedProject,
    raw_exchange,
    serve,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedProject]:
    served = serve(PROBE_APP, tmp_path_factory.mktemp("one-answer"), "--no-autoreload")
    try:
        yield served
    finally:
        served.stop()


@pytest.mark.parametrize("body_bytes", [200_000, 2_000_000])
def test_an_unknown_route_with_a_large_body_gets_one_answer(probe: ServedProject,
                                                             body_bytes: int) -> None:
    request = (b"POST /no-such-route HTTP/1.1\r\nHost: probe\r\n"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % body_bytes
               + b"x" * body_bytes)
    exchange = raw_exchange(probe.port, request)
    assert exchange.statuses == [403], exchange.data[:600]
