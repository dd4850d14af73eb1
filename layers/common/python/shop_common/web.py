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
from shop_common.errors import PROBLEM_CONTENT_TYPE, Problem
from shop_common.logs import request_id_var

access_log = logging.getLogger("shop.access")

ResponseObserver = Callable[[Request, Response, float], None]
_observers: list[ResponseObserver] = []


def add_response_observer(observer: ResponseObserver) -> None:
    """Let another concern (metrics) see every request without a second middleware."""
    if observer not in _observers:
        _observers.append(observer)


REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def accepted_request_id(offered: str | None) -> str:
    """The caller's request id when it is short and plain, else a new one.

    It is logged and forwarded to other services, so it must not carry arbitrary text.
    """
    if offered and REQUEST_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def route_template(request: Request) -> str:
    return str(request.context.get("resourcePath") or request.path)


def as_problem(response: Response, path: str) -> Response:
    """Rewrite Chalice's own `{"Code", "Message"}` error bodies as problems."""
    if response.status_code < 400:
        return response
    headers = {k.lower(): v for k, v in (response.headers or {}).items()}
    if headers.get("content-type") == PROBLEM_CONTENT_TYPE:
        return response
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
    # Per app, not in the process-wide observer list: a process (a test) may hold several.
    observe_http = http_metrics_observer(metrics.service_of_app(app.app_name))

    @app.middleware("http")
    def problems_and_access_log(
        request: Request, get_response: Callable[[Request], Response]
    ) -> Response:
        request_id = accepted_request_id(request.headers.get("x-request-id"))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            try:
                response = get_response(request)
            except Problem as problem:
                response = problem.to_response(request.path)
            response = as_problem(response, request.path)
            response.headers["X-Request-Id"] = request_id
            elapsed = time.perf_counter() - started
            observe_http(request, response, elapsed)
            for observer in _observers:
                observer(request, response, elapsed)
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "route": route_template(request),
                    "path": request.path,
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
    raw = request_of(app).raw_body
    return raw.encode() if isinstance(raw, str) else raw


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content_type = PROBLEM_CONTENT_TYPE if status >= 400 else "application/json"
    text = body if isinstance(body, str) else json.dumps(body)
    return Response(body=text, status_code=status,
                    headers={"Content-Type": content_type, **(headers or {})})
