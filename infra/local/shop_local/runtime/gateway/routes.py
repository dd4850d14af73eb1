"""The REST API's resources and methods, read from the Swagger 2.0 document Chalice deploys.

Matching follows API Gateway's resource tree: at each path segment a literal resource
wins over a `{parameter}`, and `{name+}` (greedy) takes the rest of the path; a trailing
slash is ignored except on `/`. A method the resource does not declare does not match
(HEAD included: API Gateway has no implicit HEAD), nor does an undeclared OPTIONS; an
`x-amazon-apigateway-any-method` matches every method.
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-settings-method-request.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

ANY_METHOD = "x-amazon-apigateway-any-method"
INTEGRATION = "x-amazon-apigateway-integration"
BINARY_MEDIA_TYPES = "x-amazon-apigateway-binary-media-types"
# `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations`
LAMBDA_URI = re.compile(r"/functions/(arn:[^/]+:function:([^/:]+))(?::[^/]+)?/invocations$")


class RouteTableError(ValueError):
    """The API definition has a method this gateway cannot run (the message names it)."""


@dataclass(frozen=True)
class Integration:
    """What a method runs: `aws_proxy` (a Lambda function) or `mock` (a fixed answer).

    For `mock`, `status` and `headers` are the integration response's (e.g. the CORS
    preflight Chalice declares for a route with `cors=True`).
    """

    type: str
    function_name: str = ""
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RouteMatch:
    """The resource and method a request matched, its path parameters and its integration."""

    resource: str  # the resource path template, e.g. `/products/{id}`
    path_parameters: dict[str, str] | None  # URL-decoded, as REST APIs pass them
    integration: Integration


@dataclass
class _Node:
    methods: dict[str, Integration] = field(default_factory=dict)
    literal: dict[str, _Node] = field(default_factory=dict)
    parameter: tuple[str, _Node] | None = None
    greedy: tuple[str, _Node] | None = None
    resource: str = "/"


def _integration(resource: str, method: str, spec: dict[str, Any]) -> Integration:
    integration = spec.get(INTEGRATION) or {}
    kind = str(integration.get("type", "")).lower()
    if kind == "aws_proxy":
        found = LAMBDA_URI.search(str(integration.get("uri", "")))
        if not found:
            raise RouteTableError(f"{method} {resource}: integration uri names no Lambda function")
        return Integration("aws_proxy", function_name=found.group(2))
    if kind == "mock":
        default = (integration.get("responses") or {}).get("default") or {}
        headers = tuple(
            (name.removeprefix("method.response.header."), str(value).strip("'"))
            for name, value in (default.get("responseParameters") or {}).items()
            if name.startswith("method.response.header.")
        )
        return Integration("mock", status=int(default.get("statusCode", 200)), headers=headers)
    raise RouteTableError(f"{method} {resource}: integration type {kind!r} is not emulated "
                          "(only aws_proxy and mock)")


def _segments(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


class RouteTable:
    """Resources and methods of one REST API, plus its binary media types."""

    def __init__(self, swagger: dict[str, Any]) -> None:
        self.binary_media_types: tuple[str, ...] = tuple(swagger.get(BINARY_MEDIA_TYPES, []))
        self._root = _Node()
        self._exact: dict[str, _Node] = {}  # parameter-free resources, the common case
        for resource, operations in (swagger.get("paths") or {}).items():
            node = self._insert(resource)
            for method, spec in operations.items():
                verb = "ANY" if method == ANY_METHOD else method.upper()
                if verb == "PARAMETERS" or not isinstance(spec, dict):
                    continue
                node.methods[verb] = _integration(resource, verb, spec)

    def _insert(self, resource: str) -> _Node:
        node = self._root
        parameterised = False
        for part in _segments(resource):
            if part.startswith("{") and part.endswith("+}"):
                if node.greedy is None:
                    node.greedy = (part[1:-2], _Node())
                node = node.greedy[1]
                parameterised = True
            elif part.startswith("{") and part.endswith("}"):
                if node.parameter is None:
                    node.parameter = (part[1:-1], _Node())
                node = node.parameter[1]
                parameterised = True
            else:
                node = node.literal.setdefault(part, _Node())
        node.resource = resource
        if not parameterised:
            self._exact["/" + "/".join(_segments(resource))] = node
        return node

    def resources(self) -> dict[str, list[str]]:
        """Every resource path with its methods (for listings)."""
        found: dict[str, list[str]] = {}

        def walk(node: _Node) -> None:
            if node.methods:
                found[node.resource] = sorted(node.methods)
            for child in node.literal.values():
                walk(child)
            for pair in (node.parameter, node.greedy):
                if pair is not None:
                    walk(pair[1])

        walk(self._root)
        return found

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        """The resource and integration for `method` on `raw_path` (still percent-encoded)."""
        if raw_path != "/" and raw_path.endswith("/"):
            raw_path = raw_path.rstrip("/") or "/"
        node = self._exact.get(raw_path)
        if node is not None and node.methods:
            integration = node.methods.get(method) or node.methods.get("ANY")
            if integration is not None:
                return RouteMatch(node.resource, None, integration)
        params: dict[str, str] = {}
        found = self._walk(self._root, _segments(raw_path), params)
        if found is None:
            return None
        integration = found.methods.get(method) or found.methods.get("ANY")
        if integration is None:
            return None
        return RouteMatch(found.resource, params or None, integration)

    def _walk(self, node: _Node, parts: list[str], params: dict[str, str]) -> _Node | None:
        if not parts:
            return node if node.methods else None
        head, rest = parts[0], parts[1:]
        child = node.literal.get(head)
        if child is not None:
            found = self._walk(child, rest, params)
            if found is not None:
                return found
        if node.parameter is not None:
            name, child = node.parameter
            found = self._walk(child, rest, params)
            if found is not None:
                params[name] = unquote(head)
                return found
        if node.greedy is not None:
            name, child = node.greedy
            if child.methods:
                params[name] = unquote("/".join(parts))
                return child
        return None
