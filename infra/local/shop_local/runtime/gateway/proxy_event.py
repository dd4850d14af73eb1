"""The REST API Lambda proxy integration's input event, built from one HTTP request.

Field by field as API Gateway sends it (version 1.0 of the payload format):
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format

- `headers` holds each header's last value and `multiValueHeaders` all of them, names
  as the client spelled them; API Gateway adds `X-Forwarded-For` (the client address
  appended), `X-Forwarded-Port`, `X-Forwarded-Proto` and `X-Amzn-Trace-Id`.
- `queryStringParameters` / `multiValueQueryStringParameters` likewise, URL-decoded;
  `pathParameters` URL-decoded; each is null when empty, as are `stageVariables` and a
  missing `body`.
- `path` is the path as requested (still percent-encoded). The local gateway serves the
  stage at the root of its address, as a custom domain name mapped to the stage does,
  so `requestContext.path` is that path too (on the default `execute-api` URL it would
  start with `/<stage>`), and `domainName` is the `Host` the client used.
- `body` is the body as text, or base64 with `isBase64Encoded: true` when the request's
  `Content-Type` is one of the API's binary media types.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from shop_local.aws_local import LOCAL_ACCOUNT
from shop_local.runtime.gateway.media_types import is_binary
from shop_local.runtime.ids import base64_id, random_hex
from shop_local.runtime.ids import request_id as new_request_id

ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=4096)
def resource_like_id(text: str, length: int) -> str:
    """A stable lower-case id in API Gateway's style (`apiId`, `resourceId`) for `text`."""
    number = int.from_bytes(hashlib.sha256(text.encode()).digest()[:10], "big")
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 36)
        chars.append(ID_ALPHABET[digit])
    return "".join(chars)


@lru_cache(maxsize=2)
def request_time(epoch_second: int) -> str:
    """`requestTime` for a second: `09/Apr/2015:12:34:56 +0000` (formatted once per second)."""
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_second))


def extended_request_id() -> str:
    """API Gateway's `extendedRequestId`, also its `x-amz-apigw-id` header: `JJbxmHQtIAMFQgQ=`."""
    return base64_id(11)


def trace_header(now: float) -> str:
    """An X-Ray trace header, `Root=1-<epoch hex>-<96 random bits>`."""
    return f"Root=1-{int(now):08x}-{random_hex(12)}"


@dataclass(frozen=True)
class ApiIdentity:
    """Which REST API and stage the events come from."""

    api_id: str
    stage: str
    stage_variables: dict[str, str] | None = None

    @classmethod
    def for_app(cls, app_name: str, stage: str,
                stage_variables: dict[str, str] | None = None) -> ApiIdentity:
        """The identity of `app_name`'s API at `stage`, the same every run.

        The API id is 10 characters derived from both; stage variables None when empty.
        """
        return cls(resource_like_id(f"{app_name}:{stage}", 10), stage, stage_variables or None)


@dataclass
class HttpRequest:
    """One request as the HTTP server handed it over (header names as sent, in order)."""

    method: str
    raw_path: str
    query_string: str
    headers: list[tuple[str, str]]
    body: bytes
    client_ip: str
    server_port: int
    scheme: str = "http"
    http_version: str = "1.1"


def _multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None,
                                                 dict[str, list[str]] | None]:
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value  # the last one wins
        if name in multi:
            multi[name].append(value)
        else:
            multi[name] = [value]
    return single, multi


ADDED_BY_GATEWAY = frozenset({"x-forwarded-for", "x-forwarded-port", "x-forwarded-proto",
                              "x-amzn-trace-id"})


def _gateway_headers(request: HttpRequest, by_name: dict[str, str],
                     now: float) -> list[tuple[str, str]]:
    """The client's headers plus the ones API Gateway adds on the way to the function."""
    kept = [(k, v) for k, v in request.headers if k.lower() not in ADDED_BY_GATEWAY]
    forwarded = by_name.get("x-forwarded-for")
    kept += [
        ("X-Amzn-Trace-Id", by_name.get("x-amzn-trace-id") or trace_header(now)),
        ("X-Forwarded-For", f"{forwarded}, {request.client_ip}" if forwarded
         else request.client_ip),
        ("X-Forwarded-Port", str(request.server_port)),
        ("X-Forwarded-Proto", request.scheme),
    ]
    return kept


def build_proxy_event(request: HttpRequest, resource: str,
                      path_parameters: dict[str, str] | None, api: ApiIdentity,
                      binary_media_types: tuple[str, ...], request_id: str | None = None,
                      extended_id: str | None = None, now: float | None = None) -> dict[str, Any]:
    """The proxy event for `request` matched to `resource` (see the module doc)."""
    now = time.time() if now is None else now
    request_id = request_id or new_request_id()
    by_name = {k.lower(): v for k, v in request.headers}  # the last one wins
    single_headers, multi_headers = _multi(_gateway_headers(request, by_name, now))
    query, multi_query = (_multi(parse_qsl(request.query_string, keep_blank_values=True))
                          if request.query_string else (None, None))
    host = by_name.get("host") or f"127.0.0.1:{request.server_port}"
    content_type = by_name.get("content-type")

    body: str | None = None
    binary = False
    if request.body:
        if is_binary(content_type, binary_media_types):
            body, binary = base64.b64encode(request.body).decode("ascii"), True
        else:
            body = request.body.decode("utf-8", errors="replace")

    return {
        "resource": resource,
        "path": request.raw_path,
        "httpMethod": request.method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters,
        "stageVariables": api.stage_variables,
        "requestContext": {
            "resourceId": resource_like_id(f"{api.api_id}:{resource}", 6),
            "resourcePath": resource,
            "httpMethod": request.method,
            "extendedRequestId": extended_id or extended_request_id(),
            "requestTime": request_time(int(now)),
            "path": request.raw_path,
            "accountId": LOCAL_ACCOUNT,
            "protocol": f"HTTP/{request.http_version}",
            "stage": api.stage,
            "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.client_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": by_name.get("user-agent"),
                "user": None,
            },
            "domainName": host,
            "apiId": api.api_id,
        },
        "body": body,
        "isBase64Encoded": binary,
    }
