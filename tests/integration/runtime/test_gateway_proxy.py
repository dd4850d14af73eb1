"""What a function receives and what the client gets back through the local API Gateway,
checked against API Gateway's documented REST proxy event and its own answers."""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Iterator

import pytest
import requests

from tests.integration.runtime.gateway_support import PROBE_APP, ServedProject, serve
from tests.support.polling import wait_until

pytestmark = pytest.mark.integration

INTEGRATION_TIMEOUT = 3
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff\xfe"

TOP_LEVEL = {"resource", "path", "httpMethod", "headers", "multiValueHeaders",
             "queryStringParameters", "multiValueQueryStringParameters", "pathParameters",
             "stageVariables", "requestContext", "body", "isBase64Encoded"}
REQUEST_CONTEXT = {"accountId", "apiId", "domainName", "domainPrefix", "extendedRequestId",
                   "httpMethod", "identity", "path", "protocol", "requestId", "requestTime",
                   "requestTimeEpoch", "resourceId", "resourcePath", "stage"}


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedProject]:
    served = serve(PROBE_APP, tmp_path_factory.mktemp("proxy"), "--no-autoreload",
                   SHOP_GATEWAY_INTEGRATION_TIMEOUT_SECONDS=str(INTEGRATION_TIMEOUT))
    try:
        yield served
    finally:
        served.stop()


def get_event(probe: ServedProject, path_and_query: str,
              headers: list[tuple[str, str]]) -> tuple[http.client.HTTPResponse, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", probe.port, timeout=30)
    connection.putrequest("GET", path_and_query)
    for name, value in headers:
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    return response, json.loads(response.read())


def test_the_event_has_every_field_of_api_gateways(probe: ServedProject) -> None:
    response, event = get_event(probe, "/event?tag=a&tag=b&one=1", [
        ("User-Agent", "probe-agent/1"), ("X-Dup", "first"), ("X-Dup", "last")])
    assert response.status == 200
    assert set(event) == TOP_LEVEL
    assert set(event["requestContext"]) == REQUEST_CONTEXT
    assert event["resource"] == "/event" and event["path"] == "/event"
    assert event["httpMethod"] == "GET"
    assert event["queryStringParameters"] == {"tag": "b", "one": "1"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "one": ["1"]}
    assert event["pathParameters"] is None and event["stageVariables"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False
    # Duplicate headers: the last value in `headers`, all of them in `multiValueHeaders`.
    assert event["headers"]["X-Dup"] == "last"
    assert event["multiValueHeaders"]["X-Dup"] == ["first", "last"]
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    context = event["requestContext"]
    assert context["stage"] == "api"  # the app's api_gateway_stage
    assert context["accountId"] == "123456789012"
    assert context["resourcePath"] == "/event" and context["httpMethod"] == "GET"
    assert context["protocol"] == "HTTP/1.1"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "probe-agent/1"
    assert context["requestId"] == response.getheader("x-amzn-RequestId")
    assert context["domainName"] == f"127.0.0.1:{probe.port}"


def test_a_client_cannot_pose_as_another_address_with_x_forwarded_for(
        probe: ServedProject) -> None:
    # API Gateway's sourceIp is the connection's peer; a sent X-Forwarded-For is only
    # extended with it (login throttling keys on sourceIp).
    _, event = get_event(probe, "/event", [("X-Forwarded-For", "203.0.113.9")])
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert event["headers"]["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"


def test_path_parameters_are_decoded_and_the_path_is_not(probe: ServedProject) -> None:
    response = requests.get(probe.url + "/items/a%20b", timeout=30)
    assert response.json() == {"id": "a b"}


def test_a_binary_body_reaches_the_function_base64_encoded(probe: ServedProject) -> None:
    for spelling in ("Content-Type", "content-type"):
        response = requests.post(probe.url + "/event", data=PNG, timeout=30,
                                 headers={spelling: "image/png"})
        event = response.json()
        assert event["isBase64Encoded"] is True
        assert base64.b64decode(event["body"]) == PNG


def test_a_binary_response_is_decoded_for_a_binary_accept(probe: ServedProject) -> None:
    response = requests.get(probe.url + "/image", headers={"Accept": "image/png"}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.content == PNG


def test_a_function_error_is_502(probe: ServedProject) -> None:
    response = requests.get(probe.url + "/crash", timeout=30)
    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}
    assert requests.get(probe.url + "/ping", timeout=30).status_code == 200


def test_a_malformed_proxy_response_is_502(probe: ServedProject) -> None:
    response = requests.get(probe.url + "/malformed", timeout=30)
    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}


def test_a_call_past_the_integration_timeout_is_504_and_the_next_is_served(
    probe: ServedProject
) -> None:
    response = requests.get(probe.url + f"/sleep/{INTEGRATION_TIMEOUT + 2}", timeout=60)
    assert response.status_code == 504
    assert response.json() == {"message": "Endpoint request timed out"}
    wait_until(lambda: requests.get(probe.url + "/ping", timeout=30).status_code == 200, 30,
               what="served after a 504")


def test_unknown_routes_and_methods_are_missing_authentication_token(
    probe: ServedProject
) -> None:
    for method, path in (("GET", "/nowhere"), ("DELETE", "/ping"), ("OPTIONS", "/ping")):
        response = requests.request(method, probe.url + path, timeout=30)
        assert response.status_code == 403, (method, path)
        assert response.json() == {"message": "Missing Authentication Token"}


def test_a_cors_route_answers_its_preflight(probe: ServedProject) -> None:
    response = requests.options(probe.url + "/items/7", timeout=30, headers={
        "Origin": "https://example.com", "Access-Control-Request-Method": "GET"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
