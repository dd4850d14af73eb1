"""Order service routes. The logic lives in chalicelib; each route states who may call it."""

from __future__ import annotations

import json
import uuid
from typing import Any

from chalice.app import Chalice, Request, Response

from chalicelib import orders
from chalicelib.deps import runtime, user_client
from chalicelib.intake import take_order
from chalicelib.schemas import InternalOrderBody, VoidBody, order_view
from shop_common.auth import SUPERADMIN, calling_service, current_user
from shop_common.db import transaction
from shop_common.errors import PROBLEM_CONTENT_TYPE, Problem
from shop_common.health import health_report
from shop_common.pagination import page_request
from shop_common.tokens import UserClaims
from shop_common.validation import parse_body
from shop_common.web import install_http_middleware

app = Chalice(app_name="shop-order")
install_http_middleware(app)

# Only the product service places orders: it has reserved the stock first.
INTERNAL_CALLERS = frozenset({"product"})


def _request() -> Request:
    request = app.current_request
    assert request is not None, "only called while serving a request"
    return request


def _body() -> bytes | None:
    raw = _request().raw_body
    return raw.encode() if isinstance(raw, str) else raw


def _json(body: Any, status: int = 200) -> Response:
    content_type = PROBLEM_CONTENT_TYPE if status >= 400 else "application/json"
    return Response(body=json.dumps(body), status_code=status,
                    headers={"Content-Type": content_type})


def _owner_filter(user: UserClaims) -> uuid.UUID | None:
    """Whose orders the caller may see: their own, or everyone's for a superadmin."""
    return None if user.role == SUPERADMIN else uuid.UUID(user.user_id)


@app.route("/internal/orders", methods=["POST"])
def internal_create_order() -> Response:
    rt = runtime()
    calling_service(_request().headers, rt.keys, rt.settings, INTERNAL_CALLERS)
    body = parse_body(_body(), InternalOrderBody)
    intake = take_order(rt.sessions, user_client(), body)
    return _json(intake.order, 201 if intake.created else 200)


@app.route("/internal/orders/void", methods=["POST"])
def internal_void_order() -> Response:
    rt = runtime()
    calling_service(_request().headers, rt.keys, rt.settings, INTERNAL_CALLERS)
    body = parse_body(_body(), VoidBody)
    with transaction(rt.sessions) as session:
        order = orders.void_key(session, body.idempotency_key)
        view = order_view(order) if order is not None else None
    return _json({"order": view, "voided": view is None})


@app.route("/orders", methods=["GET"])
def list_orders() -> Response:
    rt = runtime()
    user = current_user(_request().headers, rt.keys, rt.settings)
    page = page_request(_request().query_params)
    with transaction(rt.sessions) as session:
        return _json(orders.list_orders(session, page, _owner_filter(user)))


@app.route("/orders/{order_id}", methods=["GET"])
def get_order(order_id: str) -> Response:
    rt = runtime()
    user = current_user(_request().headers, rt.keys, rt.settings)
    with transaction(rt.sessions) as session:
        return _json(order_view(orders.get_order(session, order_id, _owner_filter(user))))


@app.route("/health", methods=["GET"])
def health() -> Response:
    status, body = health_report(runtime())
    if status == 200:
        return _json(body)
    # Degraded: a problem document that still carries every check's state.
    failing = sorted(name for name, check in body["checks"].items() if check["status"] != "up")
    raise Problem(status, "Service Unavailable", "degraded: " + ", ".join(failing),
                  slug="degraded", extra={"service": body["service"], "checks": body["checks"]})
