"""The Lambda Invoke API over HTTP, driven by boto3 as against `sam local start-lambda`."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError

from tests.integration.runtime.lambda_support import (
    PREFIX,
    BackgroundService,
    lambda_client,
    probe_catalog,
)

pytestmark = pytest.mark.timeout(180)
PROBE = PREFIX + "probe"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundService]:
    root = tmp_path_factory.mktemp("invoke-api")
    handle = BackgroundService(probe_catalog(), root / "logs", registry=root / "registry")
    try:
        yield handle
    finally:
        handle.close()


def test_boto3_can_invoke_request_response(running: BackgroundService) -> None:
    client = lambda_client(running.url)
    answer = client.invoke(FunctionName=PROBE, Payload=json.dumps({"say": "boto3"}))
    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    assert answer["ExecutedVersion"] == "$LATEST"
    body = json.loads(answer["Payload"].read())
    assert body["event"] == {"say": "boto3"}
    assert body["context"]["aws_request_id"] == answer["ResponseMetadata"]["RequestId"]


def test_boto3_can_invoke_by_arn_and_with_a_client_context(running: BackgroundService) -> None:
    client = lambda_client(running.url)
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{PROBE}"
    context = base64.b64encode(json.dumps({"custom": {"tenant": "t1"}}).encode()).decode()
    answer = client.invoke(FunctionName=arn, Payload=b"{}", ClientContext=context)
    body = json.loads(answer["Payload"].read())
    assert body["context"]["client_context"] == {"tenant": "t1"}


def test_boto3_tail_returns_the_invocations_log(running: BackgroundService) -> None:
    client = lambda_client(running.url)
    answer = client.invoke(FunctionName=PROBE, Payload=json.dumps({"say": "tail me"}),
                           LogType="Tail")
    tail = base64.b64decode(answer["LogResult"]).decode()
    request_id = answer["ResponseMetadata"]["RequestId"]
    assert "probe says tail me" in tail
    assert f"START RequestId: {request_id}" in tail and f"REPORT RequestId: {request_id}" in tail


def test_boto3_event_and_dry_run(running: BackgroundService) -> None:
    client = lambda_client(running.url)
    assert client.invoke(FunctionName=PROBE, InvocationType="Event",
                         Payload=b'{"say": "later"}')["StatusCode"] == 202
    assert client.invoke(FunctionName=PROBE, InvocationType="DryRun")["StatusCode"] == 204


def test_a_failing_function_is_function_error_unhandled(running: BackgroundService) -> None:
    answer = lambda_client(running.url).invoke(FunctionName=PREFIX + "fail",
                                               Payload=b'{"why": "over http"}')
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    error = json.loads(answer["Payload"].read())
    assert error["errorType"] == "ValueError" and error["errorMessage"] == (
        "asked to fail: over http")


def test_an_unknown_function_is_resource_not_found(running: BackgroundService) -> None:
    with pytest.raises(ClientError) as raised:
        lambda_client(running.url).invoke(FunctionName="no-such-function", Payload=b"{}")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_request_over_six_mb_is_413_request_too_large(running: BackgroundService) -> None:
    payload = json.dumps({"padding": "x" * (7 * 1024 * 1024)}).encode()
    response = requests.post(f"{running.url}/2015-03-31/functions/{PROBE}/invocations",
                             data=payload, timeout=60)
    assert response.status_code == 413
    assert response.headers["x-amzn-ErrorType"] == "RequestTooLargeException"


def test_past_reserved_concurrency_is_429_too_many_requests(
        running: BackgroundService) -> None:
    client = lambda_client(running.url)
    busy = threading.Thread(target=client.invoke, kwargs={
        "FunctionName": PREFIX + "limited", "Payload": b'{"seconds": 3}'})
    busy.start()
    try:
        deadline = time.monotonic() + 30
        while not any(e.state == "busy" for e in running.service.environments(
                PREFIX + "limited")):
            assert time.monotonic() < deadline, "the first call never ran"
            time.sleep(0.05)
        with pytest.raises(ClientError) as raised:
            client.invoke(FunctionName=PREFIX + "limited", Payload=b"{}")
        assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    finally:
        busy.join(60)


def test_a_bad_invocation_type_is_invalid_parameter(running: BackgroundService) -> None:
    response = requests.post(f"{running.url}/2015-03-31/functions/{PROBE}/invocations",
                             data=b"{}", headers={"X-Amz-Invocation-Type": "Whenever"},
                             timeout=30)
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "InvalidParameterValueException"


def test_the_one_port_router_forwards_to_the_process_that_runs_the_function(
        running: BackgroundService) -> None:
    client = lambda_client(running.router_url)
    answer = client.invoke(FunctionName=PROBE, Payload=b'{"say": "routed"}', LogType="Tail")
    assert json.loads(answer["Payload"].read())["event"] == {"say": "routed"}
    assert "probe says routed" in base64.b64decode(answer["LogResult"]).decode()
    failed = client.invoke(FunctionName=PREFIX + "fail", Payload=b"{}")
    assert failed["FunctionError"] == "Unhandled"
    with pytest.raises(ClientError) as raised:
        client.invoke(FunctionName="not-registered", Payload=b"{}")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_registration_is_removed_when_the_service_closes(tmp_path: Path) -> None:
    handle = BackgroundService(probe_catalog(), tmp_path / "logs", registry=tmp_path / "reg")
    assert len(list((tmp_path / "reg").glob("*.json"))) == 1
    handle.close()
    assert list((tmp_path / "reg").glob("*.json")) == []
