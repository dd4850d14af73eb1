"""QA finding: a client picks its own address with X-Forwarded-For, and escapes throttling.

The README (Login and sign-up throttling) says the client address is API Gateway's
`requestContext.identity.sourceIp`, "the TCP peer it saw (never X-Forwarded-For)".
The gateway's uvicorn keeps its default `proxy_headers=True` with
`forwarded_allow_ips="127.0.0.1"`, so for every connection from 127.0.0.1 (every local
client, and anything behind a proxy on the same host) the address in the client's own
`X-Forwarded-For` header becomes `sourceIp`. A client sending a new one each time is a
new client each time: no per-client limit, no per-client failure count, and it can
claim the account owner's known address to skip the account-wide delays.

Seen on the live stack, from 127.0.0.1, 40 failed logins for 40 addresses, each with
its own random `X-Forwarded-For: 10.0.x.y`: 40 x 401, never a 429 (without the header
the 21st is a 429). Under `shop serve`, `X-Forwarded-For: 6.6.6.6` gives the function
`sourceIp` 6.6.6.6 and `X-Forwarded-For: 6.6.6.6, 6.6.6.6`.
"""

from __future__ import annotations

import pytest

from tests.support.client import ShopClient, unique_email

pytestmark = pytest.mark.integration


def test_x_forwarded_for_does_not_make_a_client_a_new_one(user_service: ShopClient) -> None:
    # 25 failures: past the 20 free ones of the client-address scope, under the
    # 30 requests a minute of the per-client limit.
    answers = [
        user_service.call("POST", "/users/login",
                          json={"email": unique_email("xff"), "password": "wrong-password-1"},
                          headers={"X-Forwarded-For": f"10.0.{n}.{n + 1}"}).status_code
        for n in range(25)
    ]
    assert 429 in answers, answers
