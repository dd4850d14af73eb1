"""Errors as `application/problem+json` (RFC 9457).

Service code raises a `Problem`; the HTTP middleware turns it into a response.
No route builds an error body by hand, so every error has the same shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chalice.app import ChaliceUnhandledError, Response

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://serverless-shop.dev/problems/"


@dataclass
class FieldError:
    """One field that failed validation: its dotted path in the body and why."""

    field: str
    message: str


def path_reference(path: str) -> str:
    """`path` as a relative URI reference that resolves to this same path on the same host.

    A reference that begins `//` is a network-path reference (RFC 3986 §4.2): `//evil.example/x`
    would name another host; so would `/\\evil.example/x` in a browser, whose URL parser reads
    `\\` as `/` in http(s) URLs (WHATWG URL Standard, "path start state"). `/.` in front keeps
    either a path, and dot-segment removal (RFC 3986 §5.2.4) gives back the path on resolution.
    """
    return "/." + path if path[1:2] in ("/", "\\") else path


@dataclass
class Problem(ChaliceUnhandledError):
    """An error answered as an RFC 9457 problem: raise it anywhere in a request and the
    HTTP middleware sends it as `application/problem+json` with `status` and `headers`."""

    # ChaliceUnhandledError is the one exception Chalice lets through to the HTTP
    # middleware; any other is turned into its own 500 body before we see it.

    status: int
    title: str
    detail: str = ""
    slug: str = ""
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.detail or self.title)

    @property
    def type(self) -> str:
        return PROBLEM_TYPE_BASE + (self.slug or self.title.lower().replace(" ", "-"))

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        """The problem body: `type`, `title`, `status`, `detail`, and `instance` (the
        requested path) when given, plus `errors` and any extension members."""
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail or self.title,
        }
        if instance:
            body["instance"] = path_reference(instance)
        if self.errors:
            body["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        body.update(self.extra)
        return body

    def to_response(self, instance: str | None = None) -> Response:
        """The problem as a Chalice Response with its status and headers."""
        return Response(
            body=json.dumps(self.to_dict(instance)),
            status_code=self.status,
            headers={"Content-Type": PROBLEM_CONTENT_TYPE, **self.headers},
        )


def bad_request(detail: str, slug: str = "bad-request") -> Problem:
    """A 400 problem."""
    return Problem(400, "Bad Request", detail, slug=slug)


def content_too_large(detail: str) -> Problem:
    """A 413 problem (RFC 9110 §15.5.14 Content Too Large)."""
    return Problem(413, "Content Too Large", detail, slug="payload-too-large")


def unauthorized(detail: str = "a valid bearer token is required") -> Problem:
    """A 401 problem with `WWW-Authenticate: Bearer` (RFC 6750 §3)."""
    return Problem(
        401, "Unauthorized", detail, slug="unauthorized",
        headers={"WWW-Authenticate": 'Bearer realm="shop"'},
    )


def forbidden(detail: str = "you may not do this") -> Problem:
    """A 403 problem: the caller is known but may not do this."""
    return Problem(403, "Forbidden", detail, slug="forbidden")


def not_found(detail: str = "no such resource") -> Problem:
    """A 404 problem."""
    return Problem(404, "Not Found", detail, slug="not-found")


def conflict(detail: str, slug: str = "conflict", **extra: Any) -> Problem:
    """A 409 problem; `extra` members are added to its body (RFC 9457 §3.2)."""
    return Problem(409, "Conflict", detail, slug=slug, extra=extra)


def validation_failed(errors: list[FieldError]) -> Problem:
    """A 422 problem listing `errors` under `errors`, their fields named in `detail`."""
    names = ", ".join(sorted({e.field for e in errors}))
    return Problem(
        422, "Unprocessable Content", f"invalid fields: {names}", slug="validation", errors=errors
    )


def too_many_requests(detail: str, retry_after_seconds: int) -> Problem:
    """A 429 problem with `Retry-After` in whole seconds, at least 1 (RFC 9110 §10.2.3)."""
    return Problem(
        429, "Too Many Requests", detail, slug="throttled",
        headers={"Retry-After": str(max(1, retry_after_seconds))},
    )


def service_unavailable(detail: str, slug: str = "unavailable", retry_after: int = 1) -> Problem:
    """A 503 problem with `Retry-After: retry_after` seconds (RFC 9110 §10.2.3)."""
    return Problem(
        503, "Service Unavailable", detail, slug=slug, headers={"Retry-After": str(retry_after)}
    )
