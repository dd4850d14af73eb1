"""boto3 invokes the shop's own functions through the stack's one Invoke API port.

A real user-service process (as `shop up` runs it: registering its functions) and the
`lambda` router in front of it, as `shop up` runs them; boto3 talks to the router.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests
from botocore.exceptions import ClientError

from shop_local.paths import ROOT
from shop_local.runtime.lambda_registry import owners
from tests.integration.runtime.lambda_support import lambda_client
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
def router_url(stack: ThrowawayStack, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("shop-invoke")
    registry = folder / "registry"
    service_port, router_port = free_port(), free_port()
    host = subprocess.Popen(
        [sys.executable, "-m", "shop_local.runtime.host", "--service", "user",
         "--port", str(service_port)],
        env=stack.process_env(**stack.metrics_env("user"),
                              SHOP_LAMBDA_REGISTRY_DIR=str(registry)),
        cwd=ROOT, stdout=(folder / "user.log").open("wb"), stderr=subprocess.STDOUT)
    router = subprocess.Popen(
        [sys.executable, "-m", "shop_local.runtime.lambda_router", "--port", str(router_port),
         "--registry", str(registry)],
        env=stack.process_env(), cwd=ROOT, stdout=(folder / "router.log").open("wb"),
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
