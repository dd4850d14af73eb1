"""What a route promises, declared next to it: `@operation(...)` under `@app.route(...)`.

    @app.route("/products/{product_id}", methods=["GET"])
    @operation("One product", Access.USER, Answer(200, "the product", ProductOut),
               problems={404: "no such product"})
    def get_product(product_id: str) -> Response: ...

The declaration is stored on the view function itself, which Chalice keeps in its
route table (`app.routes[path][method].view_function`), so the OpenAPI document
(shop_common.openapi) is built from the very table that routes requests: a route
without a declaration cannot be documented by accident, it fails the build.

The problems a route can answer because of who may call it, its body, its query and
its storage are implied (see `implied_problems`); `problems` adds the route's own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

from shop_common.api_models import HealthReport
from shop_common.pagination import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT
from shop_common.validation import MAX_BODY_BYTES

ATTRIBUTE = "__shop_operation__"
JSON = "application/json"

ViewT = TypeVar("ViewT", bound=Callable[..., Any])


class Access(Enum):
    """Who may call a route, as `shop_common.auth` enforces it."""

    PUBLIC = "public"  # no token
    USER = "user"  # a user token of any role (current_user)
    SUPERADMIN = "superadmin"  # a superadmin's user token (current_superadmin)
    ENDUSER = "enduser"  # an enduser's user token (current_enduser)
    SERVICE = "service"  # a service token from an allowed service (calling_service)

    @property
    def who(self) -> str:
        return {
            Access.PUBLIC: "anyone",
            Access.USER: "signed-in user",
            Access.SUPERADMIN: "superadmin",
            Access.ENDUSER: "enduser",
            Access.SERVICE: "service token",
        }[self]


@dataclass(frozen=True)
class Header:
    """A response header: always sent with that answer unless `required` is False."""

    name: str
    description: str
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = True


@dataclass(frozen=True)
class Link:
    """An OpenAPI link: a value of this answer feeds a parameter of another operation
    (https://spec.openapis.org/oas/v3.1.0#link-object); tools follow them statefully."""

    operation_id: str  # the view function's name
    parameters: Mapping[str, str]  # parameter → runtime expression, e.g. "$response.body#/id"


@dataclass(frozen=True)
class Answer:
    """A success answer. `model` shapes a JSON body; `schema` describes any other body
    (HTML, JavaScript); neither means no body (204)."""

    status: int
    description: str
    model: type[BaseModel] | None = None
    media_type: str | tuple[str, ...] = JSON  # several: the body is one of these
    schema: Mapping[str, Any] | None = None
    headers: tuple[Header, ...] = ()
    links: Mapping[str, Link] = field(default_factory=dict)


@dataclass(frozen=True)
class Param:
    """A query or request-header parameter."""

    name: str
    location: str  # "query" or "header"
    description: str
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False


@dataclass(frozen=True)
class Operation:
    """What one route promises: the `@operation` declaration, read by shop_common.openapi.

    `answers` are its success answers, `body` the model of its JSON request body, `params`
    its query and header parameters, `problems` the extra error statuses it can answer
    (status -> when) on top of `implied_problems`.
    """

    summary: str
    access: Access
    answers: tuple[Answer, ...]
    body: type[BaseModel] | None = None
    params: tuple[Param, ...] = ()
    problems: Mapping[int, str] = field(default_factory=dict)
    description: str = ""
    uses_storage: bool = True  # reads the database or cache: 503 when it is unavailable
    tag: str = ""  # default: "internal" for service routes, else the first path segment


def operation(summary: str, access: Access, *answers: Answer,
              body: type[BaseModel] | None = None, params: tuple[Param, ...] = (),
              problems: Mapping[int, str] | None = None, description: str = "",
              uses_storage: bool = True, tag: str = "") -> Callable[[ViewT], ViewT]:
    """Attach an `Operation` to a view function; put it under `@app.route`."""
    if not answers:
        raise ValueError(f"{summary!r}: declare at least one success answer")
    declared = Operation(summary, access, answers, body, params, dict(problems or {}),
                         description, uses_storage, tag)

    def attach(view: ViewT) -> ViewT:
        setattr(view, ATTRIBUTE, declared)
        return view

    return attach


class UndocumentedRoute(LookupError):
    """A route in the app's table whose view function has no `@operation`."""


def operation_of(view: Callable[..., Any], where: str) -> Operation:
    """The `Operation` declared on a view function with `@operation`.

    `where` (e.g. "GET /products") only names the route in the error. Raises
    UndocumentedRoute when the function carries no declaration.
    """
    declared = getattr(view, ATTRIBUTE, None)
    if not isinstance(declared, Operation):
        raise UndocumentedRoute(f"{where} has no @operation declaration")
    return declared


def implied_problems(op: Operation) -> dict[int, str]:
    """The problem statuses a route answers by its kind, with when."""
    found: dict[int, str] = {415: "a Content-Type other than application/json"}
    if op.access is not Access.PUBLIC:
        found[401] = "no bearer token, or one that is invalid or expired"
    if op.access is Access.SERVICE:
        found[401] = "no valid service token addressed to this service (user tokens are refused)"
        found[403] = "a service that may not call this route"
    elif op.access is Access.SUPERADMIN:
        found[403] = "the caller is not a superadmin"
    elif op.access is Access.ENDUSER:
        found[403] = "the caller is not an enduser"
    if op.body is not None:
        found[400] = "the body is not a JSON object (malformed, empty or nested too deeply)"
        found[413] = f"the body is over {MAX_BODY_BYTES // 1024} KiB"
        found[422] = "invalid fields, each named in `errors`"
    if any(p.location == "query" for p in op.params):
        found[422] = "invalid query parameters, each named in `errors`" if op.body is None \
            else "invalid fields or query parameters, each named in `errors`"
    if op.uses_storage:
        found[503] = "a database the route needs is unavailable or too slow (Retry-After)"
    for status, when in op.problems.items():
        found[status] = f"{found[status]}; {when}" if status in found else when
    return dict(sorted(found.items()))


def page_params(max_limit: int = MAX_LIMIT) -> tuple[Param, ...]:
    """`?limit=&cursor=` of a keyset-paged listing (shop_common.pagination)."""
    return (
        Param("limit", "query", f"items per page, 1 to {max_limit} (default {DEFAULT_LIMIT})",
              {"type": "integer", "minimum": 1, "maximum": max_limit,
               "default": DEFAULT_LIMIT}),
        Param("cursor", "query", "`next_cursor` of the previous page; absent for the first",
              {"type": "string", "maxLength": MAX_CURSOR_LENGTH}),
    )


def health_operation() -> Callable[[ViewT], ViewT]:
    """`GET /health`, the same on every service (shop_common.health)."""
    return operation(
        "The state of this service's database, cache and broker", Access.PUBLIC,
        Answer(200, "every dependency is up", HealthReport),
        problems={503: "a dependency is down: `checks` (as in the 200 body) says which"},
        uses_storage=False,
    )
