"""The function's proxy integration response, checked and turned into an HTTP response.

The output format: `{"statusCode": int, "headers": {...}, "multiValueHeaders": {...},
"body": "...", "isBase64Encoded": bool}`. API Gateway merges `headers` and
`multiValueHeaders` (a key in both takes the `multiValueHeaders` values), answers
`Content-Type: application/json` when the function sets none, and decodes a base64 body
only when the request's first `Accept` type is a binary media type. Anything else
(not an object, no integer status, a header value that is a list in `headers` or holds
a line break, a body that is not a string, bad base64) is a malformed response: the
gateway answers 502.
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-output-format

Framing headers the function sets (`Content-Length`, `Transfer-Encoding`, `Connection`)
and `Date`/`Server` would clash with the gateway's own, so they are passed on renamed
`x-amzn-Remapped-<name>`, as API Gateway does.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

import orjson

from shop_local.runtime.gateway.media_types import first_accepted, is_binary

REMAPPED = frozenset({"content-length", "transfer-encoding", "connection", "date", "server"})
SCALARS = (str, int, float, bool)
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 §5.1 field-name
FORBIDDEN_IN_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # RFC 9110 §5.5


class MalformedProxyResponse(ValueError):
    """The function's answer is not a valid proxy response (the message says why)."""


@dataclass
class HttpResponse:
    """The answer the gateway sends: status, header fields in order (names as given), body bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _header_value(name: str, value: Any) -> str:
    if not TOKEN.fullmatch(name):
        raise MalformedProxyResponse(f"header name {name!r} is not an HTTP token")
    if not isinstance(value, SCALARS):
        raise MalformedProxyResponse(f"header {name!r} has a {type(value).__name__} value")
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    if FORBIDDEN_IN_VALUE.search(text):
        raise MalformedProxyResponse(f"header {name!r} has a control character")
    return text


def _status(document: dict[str, Any]) -> int:
    status = document.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedProxyResponse(f"statusCode {status!r} is not an HTTP status")
    return status


def _headers(document: dict[str, Any]) -> list[tuple[str, str]]:
    single = document.get("headers") or {}
    multi = document.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedProxyResponse("headers and multiValueHeaders must be objects")
    merged: list[tuple[str, str]] = []
    for name, value in single.items():
        if name not in multi:
            merged.append((name, _header_value(name, value)))
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedProxyResponse(f"multiValueHeaders[{name!r}] is not a list")
        merged.extend((name, _header_value(name, value)) for value in values)
    for index, (name, value) in enumerate(merged):
        if name.lower() in REMAPPED:
            merged[index] = (f"x-amzn-Remapped-{name}", value)
    if not any(name.lower() == "content-type" for name, _ in merged):
        merged.append(("Content-Type", "application/json"))
    return merged


def _body(document: dict[str, Any], accept: str | None,
          binary_media_types: tuple[str, ...]) -> bytes:
    body = document.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedProxyResponse(f"body is a {type(body).__name__}, not a string")
    encoded = document.get("isBase64Encoded", False)
    if not isinstance(encoded, bool):
        raise MalformedProxyResponse("isBase64Encoded is not a boolean")
    if encoded and is_binary(first_accepted(accept), binary_media_types):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedProxyResponse("body is not valid base64") from None
    return body.encode("utf-8")


def parse_proxy_response(payload: bytes, accept: str | None,
                         binary_media_types: tuple[str, ...]) -> HttpResponse:
    """The HTTP response for the function's `payload`; raises MalformedProxyResponse."""
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise MalformedProxyResponse("the response is not JSON") from None
    if not isinstance(document, dict):
        raise MalformedProxyResponse("the response is not a JSON object")
    return HttpResponse(_status(document), _headers(document),
                        _body(document, accept, binary_media_types))
