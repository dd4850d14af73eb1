"""boto3 invokes the shop's own functions through the stack's one Invoke API port.

A real user-service process (as `shop up` runs it: registering its functions) and the
`lambda` router in front of it, as `shop up` runs them, both given the stack's key;
boto3 talks to the router. Whoever does not hold the key is refused, at the router and
at the process's own Invoke API port: otherwise anyone on the machine could invoke
`shop-communication-dev-order_invoice` with a hand-made Amazon MQ event (and have the
shop email anyone), or `shop-user-dev` with any `sourceIp` (and escape the per-client
login limit).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError

from shop_local.paths import ROOT
from shop_local.runtime.invoke_auth import InvokeCredentials
from shop_local.runtime.lambda_registry import owners
from tests.integration.runtime.lambda_support import (
    TEST_CREDENTIALS,
    credentials_environment,
    lambda_client,
)
from tests.support.polling import wait_until
from tests.support.stack import ThrowawayStack, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the user-service process registers its own Invoke API port."""
    return tmp_path_factory.mktemp("shop-invoke-registry")


@pytest.fixture(scope="module")
def router_url(stack: ThrowawayStack, registry: Path,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("shop-invoke")
    service_port, router_port = free_port(), free_port()
    host = subprocess.Popen(
        [sys.executable, "-m", "shop_local.runtime.host", "--service", "user",
         "--port", str(service_port)],
        env=stack.process_env(**stack.metrics_env("user"), **credentials_environment(),
                              SHOP_LAMBDA_REGISTRY_DIR=str(registry)),
        cwd=ROOT, stdout=(folder / "user.log").open("wb"), stderr=subprocess.STDOUT)
    router = subprocess.Popen(
        [sys.executable, "-m", "shop_local.runtime.lambda_router", "--port", str(router_port),
         "--registry", str(registry)],
        env=stack.process_env(**credentials_environment()), cwd=ROOT,
        stdout=(folder / "router.log").open("wb"),
        stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "shop-user-dev" in owners(registry), 60,
                   what="the user service registering its functions")

        def router_answers() -> bool:
            try:
                requests.post(f"http://127.0.0.1:{router_port}/", timeout=2)
            except requests.RequestException:
                return False
            return True

        wait_until(router_answers, 30, what="the Invoke API router")
        yield f"http://127.0.0.1:{router_port}"
    finally:
        stop(router)
        stop(host)
    assert owners(registry) == {}, "the stopped service left its registration behind"


def health_event() -> bytes:
    return json.dumps({
        "resource": "/health", "path": "/health", "httpMethod": "GET",
        "headers": {"Host": "localhost"}, "multiValueHeaders": {"Host": ["localhost"]},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None, "body": None,
        "isBase64Encoded": False,
        "requestContext": {"resourcePath": "/health", "httpMethod": "GET", "stage": "api",
                           "path": "/health", "requestId": "shop-invoke-test",
                           "identity": {"sourceIp": "127.0.0.1", "userAgent": "boto3"}},
    }).encode()


def test_boto3_invokes_the_user_services_api_function(router_url: str) -> None:
    answer = lambda_client(router_url).invoke(FunctionName="shop-user-dev",
                                              Payload=health_event(), LogType="Tail")
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    response = json.loads(answer["Payload"].read())
    assert response["statusCode"] == 200, response
    assert "checks" in json.loads(response["body"])
    tail = base64.b64decode(answer["LogResult"]).decode()
    request_id = answer["ResponseMetadata"]["RequestId"]
    assert f"REPORT RequestId: {request_id}" in tail


def test_boto3_invokes_a_scheduled_function_event_and_dry_run(router_url: str) -> None:
    client = lambda_client(router_url)
    event = json.dumps({"version": "0", "id": "1", "detail-type": "Scheduled Event",
                        "source": "aws.events", "account": "123456789012",
                        "time": "2024-05-01T12:30:00Z", "region": "us-east-1",
                        "resources": ["arn:aws:events:us-east-1:123456789012:rule/x"],
                        "detail": {}}).encode()
    answer = client.invoke(FunctionName="shop-user-dev-relay_outbox", Payload=event)
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert client.invoke(FunctionName="shop-user-dev-relay_outbox", Payload=event,
                         InvocationType="Event")["StatusCode"] == 202
    assert client.invoke(FunctionName="shop-user-dev",
                         InvocationType="DryRun")["StatusCode"] == 204


def test_an_event_the_function_cannot_take_is_function_error_unhandled(router_url: str) -> None:
    # A JSON list is no API Gateway event: Chalice fails before any route runs.
    answer = lambda_client(router_url).invoke(FunctionName="shop-user-dev", Payload=b"[1, 2]")
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    error = json.loads(answer["Payload"].read())
    assert error["errorType"] == "AttributeError", error
    assert error["stackTrace"]


def test_a_function_no_process_runs_is_resource_not_found(router_url: str) -> None:
    with pytest.raises(ClientError) as raised:
        lambda_client(router_url).invoke(FunctionName="shop-product-dev", Payload=b"{}")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_an_invocation_signed_with_a_strangers_credentials_is_refused(router_url: str) -> None:
    stranger = InvokeCredentials(TEST_CREDENTIALS.access_key_id, "guessed")
    for credentials in (stranger, InvokeCredentials("stranger", "guessed")):
        with pytest.raises(ClientError) as raised:
            lambda_client(router_url, credentials).invoke(FunctionName="shop-user-dev",
                                                          Payload=health_event())
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert raised.value.response["Error"]["Code"] in ("InvalidSignatureException",
                                                          "UnrecognizedClientException")


def test_an_unsigned_invocation_is_refused(router_url: str) -> None:
    answer = requests.post(f"{router_url}/2015-03-31/functions/shop-user-dev/invocations",
                           data=health_event(), timeout=120)
    assert answer.status_code == 403, answer.text[:300]
    assert answer.headers["x-amzn-ErrorType"] == "UnrecognizedClientException"


def test_the_process_behind_the_router_refuses_strangers_on_its_own_port(
        router_url: str, registry: Path) -> None:
    own_port = owners(registry)["shop-user-dev"]
    answer = requests.post(f"{own_port}/2015-03-31/functions/shop-user-dev/invocations",
                           data=health_event(), timeout=120)
    assert answer.status_code == 403, answer.text[:300]
    with pytest.raises(ClientError) as raised:
        lambda_client(own_port, InvokeCredentials("stranger", "guessed")).invoke(
            FunctionName="shop-user-dev", Payload=health_event())
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
