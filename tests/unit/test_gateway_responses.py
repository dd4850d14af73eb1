"""The function's proxy response becomes the HTTP answer; the gateway's own answers and their
customisation ("gateway responses") render as API Gateway's do."""

from __future__ import annotations

import base64
import json

import pytest

from shop_local.paths import GATEWAY_RESPONSES_FILE
from shop_local.runtime.gateway.gateway_responses import (
    FUNCTION_FAILED,
    INTEGRATION_TIMEOUT,
    LAMBDA_PAYLOAD_TOO_LARGE,
    MISSING_AUTHENTICATION_TOKEN,
    REQUEST_TOO_LARGE,
    GatewayResponses,
    ResponseType,
)
from shop_local.runtime.gateway.proxy_response import (
    HttpResponse,
    MalformedProxyResponse,
    parse_proxy_response,
)

BINARY = ("image/png",)
CONTEXT = {"httpMethod": "DELETE", "path": "/users/me", "resourcePath": "",
           "requestId": "req-1", "stage": "api"}


def answer(document: object, accept: str | None = None) -> HttpResponse:
    return parse_proxy_response(json.dumps(document).encode(), accept, BINARY)


def test_headers_and_multi_value_headers_merge_multi_wins() -> None:
    response = answer({"statusCode": 201, "headers": {"A": "1", "B": "only", "N": 5},
                       "multiValueHeaders": {"A": ["x", "y"]}, "body": "hi"})
    assert response.status == 201
    assert sorted(response.headers) == sorted([("B", "only"), ("N", "5"), ("A", "x"),
                                               ("A", "y"), ("Content-Type", "application/json")])
    assert response.body == b"hi"


def test_framing_headers_of_the_function_are_remapped() -> None:
    response = answer({"statusCode": 200, "headers": {"Content-Length": "99",
                                                      "Content-Type": "text/plain"}})
    assert ("x-amzn-Remapped-Content-Length", "99") in response.headers
    assert response.body == b""


def test_base64_body_is_decoded_only_when_the_first_accept_type_is_binary() -> None:
    png = b"\x89PNG\x00\xff"
    document = {"statusCode": 200, "headers": {"Content-Type": "image/png"},
                "body": base64.b64encode(png).decode(), "isBase64Encoded": True}
    assert answer(document, accept="image/png, */*").body == png
    # API Gateway answers the base64 text when the first Accept type is not binary.
    assert answer(document, accept="*/*, image/png").body == base64.b64encode(png)


@pytest.mark.parametrize("document", [
    [1, 2], "text", {"body": "no status"}, {"statusCode": 99}, {"statusCode": True},
    {"statusCode": 200, "body": {"an": "object"}},
    {"statusCode": 200, "headers": {"X": ["a", "list"]}},
    {"statusCode": 200, "headers": {"X": "line\r\nInjected: yes"}},
    {"statusCode": 200, "headers": {"Bad Name": "v"}},
    {"statusCode": 200, "multiValueHeaders": {"X": "not-a-list"}},
    {"statusCode": 200, "body": "***", "isBase64Encoded": True},
])
def test_malformed_responses_are_refused(document: object) -> None:
    with pytest.raises(MalformedProxyResponse):
        answer(document, accept="image/png")


def test_not_json_is_malformed() -> None:
    with pytest.raises(MalformedProxyResponse, match="not JSON"):
        parse_proxy_response(b"{oops", None, BINARY)


def test_stock_gateway_answers_are_api_gateways() -> None:
    stock = GatewayResponses()
    expected = {
        MISSING_AUTHENTICATION_TOKEN: (403, "Missing Authentication Token"),
        REQUEST_TOO_LARGE: (413, "Request Too Long"),
        FUNCTION_FAILED: (502, "Internal server error"),
        INTEGRATION_TIMEOUT: (504, "Endpoint request timed out"),
        LAMBDA_PAYLOAD_TOO_LARGE: (413, "Request Too Long"),
    }
    for kind, (status, message) in expected.items():
        response = stock.render(kind, CONTEXT)
        assert response.status == status
        assert json.loads(response.body) == {"message": message}
        assert ("Content-Type", "application/json") in response.headers


def test_a_customised_response_renders_its_template_and_headers() -> None:
    responses = GatewayResponses({"DEFAULT_4XX": {
        "statusCode": 400,
        "responseParameters": {"gatewayresponse.header.Content-Type": "'application/x-y'",
                               "gatewayresponse.header.X-Extra": "'yes'"},
        "responseTemplates": {"application/json":
                              '{"m": $context.error.messageString, "p": "$context.path"}'},
    }})
    response = responses.render(MISSING_AUTHENTICATION_TOKEN, {**CONTEXT, "path": '/a"b'})
    assert response.status == 400
    assert json.loads(response.body) == {"m": "Missing Authentication Token", "p": '/a"b'}
    headers = dict(response.headers)
    assert headers["Content-Type"] == "application/x-y" and headers["X-Extra"] == "yes"


def test_the_shop_keeps_every_gateway_answer_a_problem() -> None:
    shop = GatewayResponses.load(GATEWAY_RESPONSES_FILE)
    for kind in (MISSING_AUTHENTICATION_TOKEN, REQUEST_TOO_LARGE, FUNCTION_FAILED,
                 INTEGRATION_TIMEOUT, LAMBDA_PAYLOAD_TOO_LARGE):
        response = shop.render(kind, {**CONTEXT, "path": '/users/m"e%20'})
        body = json.loads(response.body)
        assert dict(response.headers)["Content-Type"] == "application/problem+json"
        # A group's template (DEFAULT_4XX) cannot know the status: it may leave it out.
        assert body.get("status", response.status) == response.status == kind.status
        assert {"type", "title", "detail"} <= set(body)
        # RFC 9457 §3.1.5, as the services' own problems: the path as requested.
        assert body["instance"] == '/users/m"e%20'
    assert "10 MB" in json.loads(shop.render(REQUEST_TOO_LARGE, CONTEXT).body)["detail"]
    assert "Request Too Long" in json.loads(
        shop.render(LAMBDA_PAYLOAD_TOO_LARGE, CONTEXT).body)["detail"]
    no_route = json.loads(shop.render(MISSING_AUTHENTICATION_TOKEN, CONTEXT).body)
    assert no_route["detail"] == "no route for DELETE /users/me"


def test_the_shops_default_4xx_keeps_each_responses_own_status() -> None:
    # DEFAULT_4XX also customises API Gateway's other 4xx answers (THROTTLED, QUOTA_EXCEEDED,
    # BAD_REQUEST_BODY ...): a status code there would turn a 429 into the same number.
    assert "statusCode" not in json.loads(GATEWAY_RESPONSES_FILE.read_text())["DEFAULT_4XX"]
    throttled = ResponseType("THROTTLED", 429, "Too Many Requests", "TooManyRequestsException")
    response = GatewayResponses.load(GATEWAY_RESPONSES_FILE).render(throttled, CONTEXT)
    body = json.loads(response.body)
    assert response.status == 429
    assert body["title"] == "Too Many Requests" and "Too Many Requests" in body["detail"]
    assert body["instance"] == CONTEXT["path"]
