"""The proxy event has every field of API Gateway's REST proxy input, with its values."""

from __future__ import annotations

import base64
import uuid

from shop_local.runtime.gateway.proxy_event import ApiIdentity, HttpRequest, build_proxy_event

API = ApiIdentity.for_app("shop-product", "api")
BINARY = ("image/png", "application/octet-stream")
REQUEST_ID = str(uuid.uuid4())

# The keys of AWS's documented sample event (REST API, payload format 1.0), less what
# only appears with an authorizer or mutual TLS (`authorizer`, `identity.clientCert`).
TOP_LEVEL = {"resource", "path", "httpMethod", "headers", "multiValueHeaders",
             "queryStringParameters", "multiValueQueryStringParameters", "pathParameters",
             "stageVariables", "requestContext", "body", "isBase64Encoded"}
REQUEST_CONTEXT = {"accountId", "apiId", "domainName", "domainPrefix", "extendedRequestId",
                   "httpMethod", "identity", "path", "protocol", "requestId", "requestTime",
                   "requestTimeEpoch", "resourceId", "resourcePath", "stage"}
IDENTITY = {"accessKey", "accountId", "caller", "cognitoAuthenticationProvider",
            "cognitoAuthenticationType", "cognitoIdentityId", "cognitoIdentityPoolId",
            "principalOrgId", "sourceIp", "user", "userAgent", "userArn"}


def request(**overrides: object) -> HttpRequest:
    fields: dict[str, object] = {
        "method": "GET", "raw_path": "/products/a%20b", "query_string": "x=1&x=2&y",
        "headers": [("Host", "127.0.0.1:8002"), ("User-Agent", "curl/8"),
                    ("X-Dup", "first"), ("x-dup", "ignored-case"), ("X-Dup", "last")],
        "body": b"", "client_ip": "10.1.2.3", "server_port": 8002,
    }
    fields.update(overrides)
    return HttpRequest(**fields)  # type: ignore[arg-type]


def event_for(req: HttpRequest, resource: str = "/products/{id}",
              params: dict[str, str] | None = None) -> dict[str, object]:
    return build_proxy_event(req, resource, params or {"id": "a b"}, API, BINARY,
                             request_id=REQUEST_ID, now=1583349317.135)


def test_has_every_field_of_the_documented_event() -> None:
    event = event_for(request())
    assert set(event) == TOP_LEVEL
    context = event["requestContext"]
    assert isinstance(context, dict)
    assert set(context) == REQUEST_CONTEXT
    assert set(context["identity"]) == IDENTITY


def test_request_fields_and_context_values() -> None:
    event = event_for(request())
    assert event["resource"] == "/products/{id}"
    assert event["path"] == "/products/a%20b"  # as requested
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "a b"}
    assert event["stageVariables"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert isinstance(context, dict)
    assert context["accountId"] == "123456789012"
    assert context["apiId"] == API.api_id and len(API.api_id) == 10
    assert context["stage"] == "api"
    assert context["requestId"] == REQUEST_ID
    assert context["resourcePath"] == "/products/{id}"
    assert context["httpMethod"] == "GET"
    assert context["protocol"] == "HTTP/1.1"
    assert context["path"] == "/products/a%20b"
    assert context["domainName"] == "127.0.0.1:8002"
    assert context["requestTimeEpoch"] == 1583349317135
    assert context["requestTime"] == "04/Mar/2020:19:15:17 +0000"
    assert context["identity"]["sourceIp"] == "10.1.2.3"
    assert context["identity"]["userAgent"] == "curl/8"


def test_duplicate_headers_last_value_wins_all_in_multi_value_headers() -> None:
    event = event_for(request())
    headers, multi = event["headers"], event["multiValueHeaders"]
    assert isinstance(headers, dict) and isinstance(multi, dict)
    assert headers["X-Dup"] == "last"
    assert multi["X-Dup"] == ["first", "last"]
    assert headers["Host"] == "127.0.0.1:8002"  # the client's spelling


def test_gateway_adds_forwarding_and_trace_headers() -> None:
    event = event_for(request(headers=[("Host", "h"), ("X-Forwarded-For", "1.1.1.1")]))
    headers = event["headers"]
    assert isinstance(headers, dict)
    assert headers["X-Forwarded-For"] == "1.1.1.1, 10.1.2.3"
    assert headers["X-Forwarded-Port"] == "8002"
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["X-Amzn-Trace-Id"].startswith("Root=1-")


def test_query_parameters_last_wins_and_blank_values_kept() -> None:
    event = event_for(request(query_string="x=1&x=2&y&z=a%2Bb"))
    assert event["queryStringParameters"] == {"x": "2", "y": "", "z": "a+b"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": [""],
                                                        "z": ["a+b"]}
    assert event_for(request(query_string=""))["queryStringParameters"] is None


def test_a_binary_body_is_base64_whatever_the_header_spelling() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    for name in ("Content-Type", "content-type", "CONTENT-TYPE"):
        event = event_for(request(method="POST", body=png,
                                  headers=[("Host", "h"), (name, "image/png")]))
        assert event["isBase64Encoded"] is True
        assert base64.b64decode(str(event["body"])) == png


def test_a_text_body_is_passed_as_text() -> None:
    event = event_for(request(method="POST", body=b'{"quantity": 1}',
                              headers=[("Content-Type", "application/json")]))
    assert event["body"] == '{"quantity": 1}' and event["isBase64Encoded"] is False


def test_ids_are_stable_per_api_and_resource() -> None:
    again = ApiIdentity.for_app("shop-product", "api")
    assert again.api_id == API.api_id
    assert ApiIdentity.for_app("shop-order", "api").api_id != API.api_id
    first = event_for(request())["requestContext"]
    other = event_for(request(), resource="/products")["requestContext"]
    assert isinstance(first, dict) and isinstance(other, dict)
    assert first["resourceId"] != other["resourceId"] and len(first["resourceId"]) == 6
