"""QA finding: a shop service answers a body timeout with `{"message": ...}`, not a problem.

The README (What the gateway answers; The shop's own errors stay problems) says the
HTTP server's own refusals, 408 included, are `application/problem+json` in the shop's
service processes. The header-timeout 408 is; the body-timeout 408 (a body not complete
within SHOP_GATEWAY_BODY_TIMEOUT_SECONDS) is `application/json`
`{"message":"Request Timeout"}`, the body `shop serve` gives any app.

Seen on the live stack (user service, 8001), after 30 s:

    POST /users/login, Content-Length: 100, 4 bytes of body, then silence
    -> HTTP/1.1 408 Request Timeout / content-type: application/json /
       {"message":"Request Timeout"}
"""

from __future__ import annotations

import socket

import pytest

from tests.support.stack import ThrowawayStack, free_port

pytestmark = pytest.mark.integration

BODY_TIMEOUT = 2


def test_a_body_that_never_completes_is_a_408_problem(stack: ThrowawayStack) -> None:
    service = stack.start("user", port=free_port(),
                          SHOP_GATEWAY_BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT))
    try:
        with socket.create_connection(("127.0.0.1", service.port),
                                      timeout=BODY_TIMEOUT * 10) as sock:
            sock.sendall(b"POST /users/login HTTP/1.1\r\nHost: shop\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"em")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    finally:
        service.stop()
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 408"), answer[:300]
    assert b"content-type: application/problem+json" in head, answer[:400]
