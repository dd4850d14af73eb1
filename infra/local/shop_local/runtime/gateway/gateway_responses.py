"""The gateway's own answers (no route, too large, function failed, timed out), with the
"gateway responses" customisation API Gateway allows.

Without customisation each is API Gateway's default: a status and
`{"message": "<text>"}`. A customisation is the REST API's
`x-amazon-apigateway-gateway-responses` object: per response type (or `DEFAULT_4XX` /
`DEFAULT_5XX`) a `statusCode`, `responseParameters` (`gatewayresponse.header.<Name>`:
`'<literal>'`) and `responseTemplates` (by content type).
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gatewayResponse-definition.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html

Templates are Velocity in API Gateway; here only `$context.<name>` references are
replaced (no directives): `error.message`, `error.messageString` (quoted),
`error.responseType`, `httpMethod`, `path` (the path as requested, still
percent-encoded, without the query string: what an RFC 9457 problem's `instance` names;
one beginning `//` or `/\\` gets `/.` in front, RFC 3986 §4.2, as at AWS's execute-api endpoint
it begins with the stage and never reads as another host),
`resourcePath`, `requestId`, `stage`, `domainName`, `identity.sourceIp`. In a JSON
template a value is JSON-escaped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shop_local.runtime.gateway.proxy_response import HttpResponse

DEFAULT_TEMPLATE = '{"message":$context.error.messageString}'
REFERENCE = re.compile(r"\$context\.([A-Za-z.]+[A-Za-z])")


@dataclass(frozen=True)
class ResponseType:
    """One of API Gateway's gateway response types ("Gateway response types for API Gateway").

    Its name, default status, default message and `x-amzn-ErrorType`.
    """

    name: str
    status: int
    message: str
    error_type: str  # x-amzn-ErrorType

    @property
    def default_group(self) -> str:
        return "DEFAULT_4XX" if self.status < 500 else "DEFAULT_5XX"


MISSING_AUTHENTICATION_TOKEN = ResponseType(
    "MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token",
    "MissingAuthenticationTokenException")
REQUEST_TOO_LARGE = ResponseType(
    "REQUEST_TOO_LARGE", 413, "Request Too Long", "RequestTooLongException")
# A function error, a malformed proxy response, or an invocation the Lambda service refused.
FUNCTION_FAILED = ResponseType(
    "DEFAULT_5XX", 502, "Internal server error", "InternalServerErrorException")
INTEGRATION_TIMEOUT = ResponseType(
    "INTEGRATION_TIMEOUT", 504, "Endpoint request timed out", "InternalServerErrorException")
# A proxy event over Lambda's 6 MB synchronous payload quota (a body API Gateway's own
# 10 MB quota lets through). Lambda refuses such an Invoke (413 RequestEntityTooLarge)
# and API Gateway answers 413 `{"message": "Request Too Long"}` with `x-amzn-ErrorType:
# BadRequestException`, as observed behind a real REST API in
# https://github.com/koki-develop/lgtm-generator/issues/10 ; the same reporter found a
# REQUEST_TOO_LARGE customisation did not change it, so it is customised here through
# the group, DEFAULT_4XX (AWS documents no type of its own for it).
LAMBDA_PAYLOAD_TOO_LARGE = ResponseType(
    "DEFAULT_4XX", 413, "Request Too Long", "BadRequestException")


class GatewayResponsesError(ValueError):
    """The customisation file is unreadable or malformed (the message names the problem)."""


class GatewayResponses:
    """API Gateway's default answers, overridden per type by `customised` (may be empty)."""

    def __init__(self, customised: dict[str, Any] | None = None) -> None:
        self._customised = customised or {}
        for name, spec in self._customised.items():
            if not isinstance(spec, dict):
                raise GatewayResponsesError(f"gateway response {name}: not an object")

    @classmethod
    def load(cls, path: Path) -> GatewayResponses:
        """Read an `x-amazon-apigateway-gateway-responses` object from a JSON file."""
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise GatewayResponsesError(f"{path}: {exc}") from None
        if not isinstance(data, dict):
            raise GatewayResponsesError(f"{path}: not a JSON object")
        return cls(data)

    def render(self, kind: ResponseType, context: dict[str, str]) -> HttpResponse:
        """The answer for `kind`; `context` holds the `$context` values (see module doc)."""
        spec = self._customised.get(kind.name) or self._customised.get(kind.default_group) or {}
        status = int(spec.get("statusCode") or kind.status)
        templates: dict[str, str] = spec.get("responseTemplates") or {}
        content_type, template = next(iter(templates.items()), ("application/json",
                                                                  DEFAULT_TEMPLATE))
        if "application/json" in templates:
            content_type, template = "application/json", templates["application/json"]
        values = {**context, "error.message": kind.message,
                  "error.messageString": json.dumps(kind.message),
                  "error.responseType": kind.name}
        as_json = "json" in content_type

        def substitute(found: re.Match[str]) -> str:
            name = found.group(1)
            if name not in values:
                return ""
            value = values[name]
            if as_json and name != "error.messageString":
                return json.dumps(value)[1:-1]
            return value

        headers = [("Content-Type", content_type), ("x-amzn-ErrorType", kind.error_type)]
        for name, value in (spec.get("responseParameters") or {}).items():
            if name.startswith("gatewayresponse.header."):
                header = name.removeprefix("gatewayresponse.header.")
                headers = [(k, v) for k, v in headers if k.lower() != header.lower()]
                headers.append((header, str(value).strip("'")))
        return HttpResponse(status, headers, REFERENCE.sub(substitute, template).encode())
