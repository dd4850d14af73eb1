"""HTTP middleware shared by every function app: request id, problems, access logs.

Installed once per app with `install_http_middleware(app)`. It guarantees that
every error a client sees is `application/problem+json`, including the ones
Chalice produces itself (405, 415, and its generic 500).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from chalice.app import Chalice, Request, Response

from shop_common import metrics
from shop_common.errors import PROBLEM_CONTENT_TYPE, Problem, path_reference
from shop_common.logs import request_id_var

access_log = logging.getLogger("shop.access")

ResponseObserver = Callable[[Request, Response, float], None]

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def accepted_request_id(offered: str | None) -> str:
    """The caller's request id when it is short and plain, else a new one.

    It is logged and forwarded to other services, so it must not carry arbitrary text.
    """
    if offered and REQUEST_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def route_template(request: Request) -> str:
    """The matched route, e.g. `/products/{product_id}`: a low-cardinality label.

    Chalice's `request.path` is this template too (it reads `resourcePath`).
    """
    return str(request.context.get("resourcePath") or request.path)


def requested_path(request: Request) -> str:
    """The path the client asked for, e.g. `/products/7/orders`, without the query string.

    API Gateway's proxy event carries it as `requestContext.path` (with the stage
    prefix the client used, e.g. `/api/...`) and as the event's `path`; the route
    template is the last resort, for hand-built events that carry neither.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
    """
    event = request.to_original_event()
    path = request.context.get("path") or event.get("path") or route_template(request)
    return str(path).split("?", 1)[0]


def with_instance(response: Response, path: str) -> Response:
    """A problem response whose body has no `instance` gets `path` as it (as a path
    reference, `errors.path_reference`): a problem a route answers from storage (an order
    request's stored outcome, replayed) was written without the request it now answers.
    """
    body = response.body
    try:
        problem = json.loads(body) if isinstance(body, str | bytes) else body
    except ValueError:
        return response
    if isinstance(problem, dict) and "instance" not in problem:
        response.body = json.dumps({**problem, "instance": path_reference(path)})
    return response


def as_problem(response: Response, path: str) -> Response:
    """Rewrite Chalice's own `{"Code", "Message"}` error bodies as problems.

    `path` becomes the problem's `instance` (RFC 9457 §3.1.5): the requested path.
    A response under 400 is returned as it is, and a problem gets `instance` when it has
    none (`with_instance`).
    """
    if response.status_code < 400:
        return response
    headers = {k.lower(): v for k, v in (response.headers or {}).items()}
    if headers.get("content-type") == PROBLEM_CONTENT_TYPE:
        return with_instance(response, path)
    body = response.body
    if isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except ValueError:
            body = {}
    message = body.get("Message") or body.get("message") if isinstance(body, dict) else None
    status = response.status_code
    if status >= 500:
        # Never echo internals: the request id is what support needs.
        message = f"unexpected error (request id {request_id_var.get()})"
    title = {405: "Method Not Allowed", 415: "Unsupported Media Type"}.get(status, "Error")
    problem = Problem(status, title, str(message or title))
    rewritten = problem.to_response(path)
    keep = {k: v for k, v in (response.headers or {}).items() if k.lower() in ("allow",)}
    rewritten.headers.update(keep)
    return rewritten


def http_metrics_observer(service: str) -> ResponseObserver:
    """Rate, errors and duration by route for one service's app."""

    def observe(request: Request, response: Response, elapsed: float) -> None:
        try:
            metrics.http_request(
                service, route_template(request), request.method, response.status_code, elapsed
            )
        except OSError:  # a full or missing metrics disk must not fail the request
            access_log.exception("could not record request metrics")

    return observe


def install_http_middleware(app: Chalice) -> None:
    """Register on `app` the one HTTP middleware every service runs: it accepts or makes the
    request id (`X-Request-Id`), answers every error as `application/problem+json`
    (RFC 9457), and writes the access log line and the request metrics.

    The access log line (logger `shop.access`, message `request`) carries `method`, `route`
    (the route template, e.g. `/products/{product_id}`, as the metrics are labelled), `path`
    (the requested path, e.g. `/products/7`, without the query string: `requested_path`),
    `status` and `duration_ms` (milliseconds, 2 decimals)."""
    # Per app: a process (a test) may hold several apps, each its own service.
    observe_http = http_metrics_observer(metrics.service_of_app(app.app_name))

    @app.middleware("http")
    def problems_and_access_log(
        request: Request, get_response: Callable[[Request], Response]
    ) -> Response:
        request_id = accepted_request_id(request.headers.get("x-request-id"))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            # RFC 9457 §3.1.5: a problem's `instance` names this occurrence, so the path as
            # requested, not the route template the metrics are labelled by; the access log
            # line names both, so an operator can find the request a client reports.
            path = requested_path(request)
            try:
                response = as_problem(get_response(request), path)
            except Problem as problem:  # written with its instance: nothing to rewrite
                response = problem.to_response(path)
            response.headers["X-Request-Id"] = request_id
            elapsed = time.perf_counter() - started
            observe_http(request, response, elapsed)
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "route": route_template(request),
                    "path": path,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


def request_of(app: Chalice) -> Request:
    """The request being served; routes only run while one is."""
    request = app.current_request
    assert request is not None, "only called while serving a request"
    return request


def source_ip(request: Request) -> str:
    """The caller's address as API Gateway reports it (`requestContext.identity.sourceIp`).

    https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
    It is the TCP peer API Gateway saw, never a client-supplied X-Forwarded-For.
    """
    identity = request.context.get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def body_of(app: Chalice) -> bytes | None:
    """The current request's raw body as bytes, or None when it has none."""
    raw = request_of(app).raw_body
    return raw.encode() if isinstance(raw, str) else raw


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A Chalice Response of `body` as JSON (a str is sent as it is), typed
    `application/problem+json` for a status of 400 or more, else `application/json`;
    `headers` are added."""
    content_type = PROBLEM_CONTENT_TYPE if status >= 400 else "application/json"
    text = body if isinstance(body, str) else json.dumps(body)
    return Response(body=text, status_code=status,
                    headers={"Content-Type": content_type, **(headers or {})})
