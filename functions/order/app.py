"""Order service routes. The logic lives in chalicelib; each route states who may call it."""

from __future__ import annotations

import uuid

from chalice.app import Chalice, CloudWatchEvent, Rate, Response

from chalicelib import orders
from chalicelib.deps import runtime, user_client
from chalicelib.intake import take_order
from chalicelib.models import OutboxEvent
from chalicelib.schemas import InternalOrderBody, VoidBody, order_view
from shop_common.auth import SUPERADMIN, calling_service, current_user
from shop_common.db import transaction
from shop_common.health import health_response
from shop_common.outbox_relay import publish_after_commit, relay_unpublished
from shop_common.pagination import page_request
from shop_common.tokens import UserClaims
from shop_common.validation import parse_body
from shop_common.web import body_of, install_http_middleware, json_response, request_of

app = Chalice(app_name="shop-order")
install_http_middleware(app)

# Only the product service places orders: it has reserved the stock first.
INTERNAL_CALLERS = frozenset({"product"})




def _owner_filter(user: UserClaims) -> uuid.UUID | None:
    """Whose orders the caller may see: their own, or everyone's for a superadmin."""
    return None if user.role == SUPERADMIN else uuid.UUID(user.user_id)


@app.route("/internal/orders", methods=["POST"])
def internal_create_order() -> Response:
    rt = runtime()
    calling_service(request_of(app).headers, rt.keys, rt.settings, INTERNAL_CALLERS)
    body = parse_body(body_of(app), InternalOrderBody)
    intake = take_order(rt.sessions, user_client(), body)
    if intake.event_id is not None:
        publish_after_commit(rt, OutboxEvent, [intake.event_id])
    return json_response(intake.order, 201 if intake.created else 200)


@app.route("/internal/orders/void", methods=["POST"])
def internal_void_order() -> Response:
    rt = runtime()
    calling_service(request_of(app).headers, rt.keys, rt.settings, INTERNAL_CALLERS)
    body = parse_body(body_of(app), VoidBody)
    with transaction(rt.sessions) as session:
        order = orders.void_key(session, body.idempotency_key)
        view = order_view(order) if order is not None else None
    return json_response({"order": view, "voided": view is None})


@app.route("/orders", methods=["GET"])
def list_orders() -> Response:
    rt = runtime()
    user = current_user(request_of(app).headers, rt.keys, rt.settings)
    page = page_request(request_of(app).query_params)
    with transaction(rt.sessions) as session:
        return json_response(orders.list_orders(session, page, _owner_filter(user)))


@app.route("/orders/{order_id}", methods=["GET"])
def get_order(order_id: str) -> Response:
    rt = runtime()
    user = current_user(request_of(app).headers, rt.keys, rt.settings)
    with transaction(rt.sessions) as session:
        return json_response(order_view(orders.get_order(session, order_id, _owner_filter(user))))


@app.route("/health", methods=["GET"])
def health() -> Response:
    return health_response(runtime())


@app.schedule(Rate(1, unit=Rate.MINUTES))
def relay_outbox(event: CloudWatchEvent) -> None:
    """Publish `order.placed` events the request could not (broker down, crash)."""
    relay_unpublished(runtime(), OutboxEvent)
