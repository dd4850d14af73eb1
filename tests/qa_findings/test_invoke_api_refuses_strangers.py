"""QA finding: the stack's Lambda Invoke API (127.0.0.1:3001) runs any function for anyone.

`shop up` serves the Invoke API on a fixed loopback port and answers every request,
signed or not, whoever signed it. Anyone on the machine can therefore invoke
`shop-communication-dev-order_invoice` with a hand-made Amazon MQ event and have the
shop email any address (the hole issue 11 closed at the broker, open again one door
over), or invoke `shop-user-dev` with any `requestContext.identity.sourceIp` and so
escape the per-client login limit. AWS's Invoke API refuses a request that is not
signed with the account's credentials (403, `UnrecognizedClientException` or
`InvalidSignatureException`); the local one should at least refuse callers that do
not hold a secret of the stack's.

Seen on the live stack (`shop up --detach`), as any local user:

    boto3.client("lambda", endpoint_url="http://127.0.0.1:3001", aws_access_key_id="x",
                 aws_secret_access_key="x", region_name="us-east-1").invoke(
        FunctionName="shop-communication-dev-order_invoice", Payload=<rmq event>)
    -> 200 {"sent": 1, ...}; `shop mail` lists an invoice to victim@example.org
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.integration.runtime.test_lambda_shop_invoke import (  # noqa: F401 (fixture)
    health_event,
    router_url,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def stranger_client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("lambda", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="stranger", aws_secret_access_key="guessed",
                        config=Config(retries={"max_attempts": 0}, read_timeout=120))


def test_an_invocation_signed_with_a_strangers_credentials_is_refused(router_url: str,  # noqa: F811
                                                                      ) -> None:
    with pytest.raises(ClientError) as raised:
        stranger_client(router_url).invoke(FunctionName="shop-user-dev",
                                           Payload=health_event())
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_an_unsigned_invocation_is_refused(router_url: str) -> None:  # noqa: F811
    answer = requests.post(f"{router_url}/2015-03-31/functions/shop-user-dev/invocations",
                           data=health_event(), timeout=120)
    assert answer.status_code == 403, answer.text[:300]
