"""`shop serve DIR` runs any Chalice project and picks up code changes: the next request
cold-starts on the new code."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
import requests

from tests.integration.runtime.gateway_support import copy_probe, serve
from tests.support.polling import wait_until

pytestmark = pytest.mark.integration


def version(url: str) -> int | None:
    try:
        return int(requests.get(url + "/ping", timeout=30).json()["version"])
    except (requests.RequestException, ValueError, KeyError):
        return None


def test_serve_reloads_a_changed_app(tmp_path: Path) -> None:
    project = copy_probe(tmp_path)
    served = serve(project, tmp_path)
    try:
        assert version(served.url) == 1
        log = served.log()
        assert f"http://127.0.0.1:{served.port}" in log
        assert "gateway-probe-dev" in log  # the function, named as deployed

        app = project / "app.py"
        app.write_text(app.read_text().replace("VERSION = 1", "VERSION = 2"))
        wait_until(lambda: version(served.url) == 2, 90, interval=0.5,
                   what="the changed code answering")
        assert "reloaded" in served.log()

        # A change that cannot import keeps the previous code serving, and says why.
        app.write_text(app.read_text() + "\nthis is not python\n")
        wait_until(lambda: "reload failed" in served.log(), 90, interval=0.5,
                   what="the failed reload reported")
        assert version(served.url) == 2
    finally:
        served.stop()


def test_serve_prints_a_lambda_endpoint_boto3_can_invoke(tmp_path: Path) -> None:
    served = serve(copy_probe(tmp_path), tmp_path, "--no-autoreload")
    try:
        client = boto3.client("lambda", endpoint_url=served.invoke_url, region_name="us-east-1",
                              aws_access_key_id="local", aws_secret_access_key="local")
        event = {"resource": "/ping", "path": "/ping", "httpMethod": "GET",
                 "headers": {"Accept": "*/*"}, "multiValueHeaders": None,
                 "queryStringParameters": None, "multiValueQueryStringParameters": None,
                 "pathParameters": None, "stageVariables": None,
                 "requestContext": {"resourcePath": "/ping", "httpMethod": "GET",
                                    "stage": "api"},
                 "body": None, "isBase64Encoded": False}
        answer = client.invoke(FunctionName="gateway-probe-dev", Payload=json.dumps(event))
        assert answer["StatusCode"] == 200 and "FunctionError" not in answer
        response = json.loads(answer["Payload"].read())
        assert response["statusCode"] == 200
        assert json.loads(response["body"]) == {"pong": True, "version": 1}
    finally:
        served.stop()


def test_serve_refuses_a_folder_without_an_app(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "shop_local.cli", "serve", str(tmp_path)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert "app.py missing" in result.stdout + result.stderr
