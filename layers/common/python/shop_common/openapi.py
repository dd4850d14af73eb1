"""The OpenAPI 3.1 document of a Chalice app, built from its route table and pydantic models.

Every route in `app.routes` must carry an `@operation` (shop_common.api_spec); the
document has exactly those routes, with Chalice's path templates. Schemas come from
the pydantic models that validate the bodies and shape the responses (pydantic writes
JSON Schema 2020-12, the dialect of OpenAPI 3.1:
https://spec.openapis.org/oas/v3.1.0#schema-object). Each error status refers to the
problem+json schema (RFC 9457).

Internal routes (`Access.SERVICE`, under `/internal/`) stay in the one document, marked
`x-internal: true` and tagged `internal`: the same route table is described once, and
a reader or a tool can drop them by that mark.

`python -m shop_common.openapi functions/product` prints an app's document without
running it (importing an app.py does no I/O).
"""

from __future__ import annotations

import importlib
import json
import sys
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalice.app import Chalice, RouteEntry
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from shop_common.api_models import ProblemDetails
from shop_common.api_spec import (
    JSON,
    Access,
    Answer,
    Operation,
    implied_problems,
    operation_of,
)
from shop_common.errors import PROBLEM_CONTENT_TYPE

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"
# Names of security schemes, not secrets.
USER_TOKEN = "userToken"  # noqa: S105
SERVICE_TOKEN = "serviceToken"  # noqa: S105

SECURITY_SCHEMES = {
    USER_TOKEN: {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "A user token from `POST /users/login` on the user service (EdDSA, "
                       "15 minutes). Routes for one role list it (`superadmin`, `enduser`).",
    },
    SERVICE_TOKEN: {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "A service token (typ `service`, at most 60 s, audience = this "
                       "service), signed by the calling service's own key.",
    },
}
REQUEST_ID_HEADER = {
    "description": "the request id: the caller's X-Request-Id when it is plain, else a new one",
    "schema": {"type": "string"},
}
RETRY_AFTER = {"description": "seconds to wait before retrying",
               "schema": {"type": "string", "pattern": "^[0-9]+$"}}
WWW_AUTHENTICATE = {"description": "the bearer challenge (RFC 6750)",
                    "schema": {"type": "string"}}


@dataclass(frozen=True)
class ApiInfo:
    """The document's `info` (OpenAPI 3.1 Info Object): title, API version, Markdown description."""

    title: str
    version: str
    description: str


_infos: weakref.WeakKeyDictionary[Chalice, ApiInfo] = weakref.WeakKeyDictionary()


def describe(app: Chalice, info: ApiInfo) -> None:
    """Register `info` as the `info` of `app`'s document (held weakly: it goes with the app)."""
    _infos[app] = info


def info_of(app: Chalice) -> ApiInfo:
    """The `info` registered for `app` with `describe`; else the app's name and version "0"."""
    return _infos.get(app) or ApiInfo(app.app_name, "0", "")


def tag_of(path: str, op: Operation) -> str:
    """The operation's one tag: its declared `tag`, else `internal` for service routes.

    Otherwise the first segment of `path` without a leading "." ("root" for `/`).
    """
    if op.tag:
        return op.tag
    if op.access is Access.SERVICE:
        return "internal"
    return path.strip("/").split("/")[0].lstrip(".") or "root"


def path_parameters(entry: RouteEntry) -> list[dict[str, Any]]:
    """The OpenAPI 3.1 Parameter Objects for the `{name}` segments of a route's path.

    Each is a required string, with `format: uuid` when the name ends in `_id`.
    """
    return [{
        "name": name, "in": "path", "required": True,
        "schema": {"type": "string", "format": "uuid"} if name.endswith("_id")
        else {"type": "string"},
    } for name in entry.view_args]


def security_of(op: Operation) -> list[dict[str, list[str]]]:
    """The operation's OpenAPI 3.1 Security Requirement Objects.

    None for public routes, else the user-token or service-token scheme, listing the role
    it needs (OpenAPI 3.1 allows role names for a non-OAuth scheme).
    """
    # OpenAPI 3.1 lets a non-OAuth requirement list the roles it needs.
    requirements: dict[Access, list[dict[str, list[str]]]] = {
        Access.PUBLIC: [],
        Access.USER: [{USER_TOKEN: []}],
        Access.SUPERADMIN: [{USER_TOKEN: ["superadmin"]}],
        Access.ENDUSER: [{USER_TOKEN: ["enduser"]}],
        Access.SERVICE: [{SERVICE_TOKEN: []}],
    }
    return requirements[op.access]


class _Schemas:
    """Collects the models a document uses, then resolves them into components."""

    def __init__(self) -> None:
        self._wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}

    def ref(self, model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        self._wanted[(model, mode)] = None
        return {"$shop_model": (model, mode)}  # replaced in resolve()

    def resolve(self, document: dict[str, Any]) -> dict[str, Any]:
        refs, top = models_json_schema(list(self._wanted), ref_template=REF)

        def swap(node: Any) -> Any:
            if isinstance(node, dict):
                if "$shop_model" in node:
                    return refs[node["$shop_model"]]
                return {k: swap(v) for k, v in node.items()}
            if isinstance(node, list):
                return [swap(v) for v in node]
            return node

        resolved: dict[str, Any] = swap(document)
        resolved["components"]["schemas"] = dict(sorted(top.get("$defs", {}).items()))
        return resolved


def _success(answer: Answer, schemas: _Schemas) -> dict[str, Any]:
    response: dict[str, Any] = {"description": answer.description}
    if answer.model is not None:
        response["content"] = {JSON: {"schema": schemas.ref(answer.model, "serialization")}}
    elif answer.schema is not None:
        types = (answer.media_type,) if isinstance(answer.media_type, str) else answer.media_type
        response["content"] = {t: {"schema": dict(answer.schema)} for t in types}
    headers: dict[str, Any] = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
    for header in answer.headers:
        headers[header.name] = {"description": header.description,
                                "required": header.required, "schema": dict(header.schema)}
    response["headers"] = headers
    if answer.links:
        response["links"] = {name: {"operationId": link.operation_id,
                                    "parameters": dict(link.parameters)}
                             for name, link in answer.links.items()}
    return response


def _problem(status: int, when: str, schemas: _Schemas) -> dict[str, Any]:
    headers: dict[str, Any] = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
    if status == 401:
        headers["WWW-Authenticate"] = {"$ref": "#/components/headers/WWW-Authenticate"}
    if status in (429, 503):
        headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
    return {
        "description": when,
        "headers": headers,
        "content": {PROBLEM_CONTENT_TYPE: {
            "schema": schemas.ref(ProblemDetails, "serialization")}},
    }


def _operation(entry: RouteEntry, path: str, op: Operation, schemas: _Schemas) -> dict[str, Any]:
    document: dict[str, Any] = {
        "operationId": entry.view_name,
        "summary": op.summary,
        "tags": [tag_of(path, op)],
        "security": security_of(op),
        "x-shop-access": op.access.value,
    }
    if op.description:
        document["description"] = op.description
    if op.access is Access.SERVICE:
        document["x-internal"] = True
    parameters = path_parameters(entry) + [{
        "name": p.name, "in": p.location, "required": p.required,
        "description": p.description, "schema": dict(p.schema),
    } for p in op.params]
    if parameters:
        document["parameters"] = parameters
    if op.body is not None:
        document["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": schemas.ref(op.body, "validation")}}}
    responses: dict[str, Any] = {str(a.status): _success(a, schemas) for a in op.answers}
    for status, when in implied_problems(op).items():
        responses[str(status)] = _problem(status, when, schemas)
    document["responses"] = dict(sorted(responses.items()))
    return document


def build_document(app: Chalice) -> dict[str, Any]:
    """The app's OpenAPI 3.1 document (a JSON-ready dict), one operation per route.

    Raises shop_common.api_spec.UndocumentedRoute for a route without `@operation`.
    """
    info = info_of(app)
    schemas = _Schemas()
    paths: dict[str, Any] = {}
    for path in sorted(app.routes):
        for method, entry in sorted(app.routes[path].items()):
            op = operation_of(entry.view_function, f"{method} {path}")
            paths.setdefault(path, {})[method.lower()] = _operation(entry, path, op, schemas)
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": info.title, "version": info.version, "description": info.description},
        "paths": paths,
        "components": {
            "securitySchemes": SECURITY_SCHEMES,
            "headers": {"X-Request-Id": REQUEST_ID_HEADER, "Retry-After": RETRY_AFTER,
                        "WWW-Authenticate": WWW_AUTHENTICATE},
        },
    }
    tags = sorted({t for ops in paths.values() for o in ops.values() for t in o["tags"]})
    document["tags"] = [{"name": t, **({"description": "service-to-service only; x-internal"}
                                        if t == "internal" else {})} for t in tags]
    return schemas.resolve(document)


def load_app(function_dir: Path) -> Chalice:
    """Import `app.py` of one function app (as Chalice does: `app` and `chalicelib`)."""
    sys.path.insert(0, str(function_dir.resolve()))
    module = importlib.import_module("app")
    app = module.app
    assert isinstance(app, Chalice)
    return app


def main(argv: list[str] | None = None) -> int:
    """`python -m shop_common.openapi FUNCTION_DIR`: print that app's document as JSON.

    Returns the exit status: 0, or 2 for a wrong number of arguments (usage on stderr).
    Raises what importing the app raises, and UndocumentedRoute as `build_document` does.
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m shop_common.openapi FUNCTION_DIR", file=sys.stderr)
        return 2
    # Run as __main__, this module is a second copy of shop_common.openapi; the app
    # registers its ApiInfo with the real one, so build the document with that.
    from shop_common import openapi

    print(json.dumps(openapi.build_document(load_app(Path(args[0]))), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
