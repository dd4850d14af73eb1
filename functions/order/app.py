"""Order service routes. The logic lives in chalicelib; each route states who may call it."""

from __future__ import annotations

import uuid

from chalice.app import Chalice, CloudWatchEvent, Rate, Response

from chalicelib import order_book
from chalicelib.deps import intake_deps, runtime
from chalicelib.intake import take_order
from chalicelib.models import OutboxEvent
from chalicelib.schemas import InternalOrderBody, OrderPage, VoidBody, VoidOut, order_view
from shop_common.api_models import OrderOut
from shop_common.api_spec import Access, Answer, health_operation, operation, page_params
from shop_common.auth import SUPERADMIN
from shop_common.callers import Callers
from shop_common.db import transaction
from shop_common.docs import install_api_docs
from shop_common.health import health_response
from shop_common.openapi import ApiInfo
from shop_common.outbox_relay import relay_unpublished
from shop_common.pagination import page_request
from shop_common.tokens import UserClaims
from shop_common.validation import parse_body
from shop_common.web import body_of, install_http_middleware, json_response, request_of

app = Chalice(app_name="shop-order")
install_http_middleware(app)
# Only the product service places orders: it has reserved the stock first.
callers = Callers(app, runtime, services=frozenset({"product"}))
install_api_docs(app, ApiInfo(
    title="Serverless Shop: order service", version="1.0.0",
    description="Orders: each user reads their own (a superadmin reads all; another "
                "user's order is a 404). Orders are placed through the product service "
                "(`POST /products/{product_id}/orders`), which calls the internal routes "
                "here. Errors are `application/problem+json` (RFC 9457).",
))

def _owner_filter(user: UserClaims) -> uuid.UUID | None:
    """Whose orders the caller may see: their own, or everyone's for a superadmin."""
    return None if user.role == SUPERADMIN else uuid.UUID(user.user_id)


@app.route("/internal/orders", methods=["POST"])
@operation("Record an order for reserved stock (the product service)", Access.SERVICE,
           Answer(201, "the order, created", OrderOut),
           Answer(200, "the order this key already made (a replay)", OrderOut),
           body=InternalOrderBody, problems={
               409: "`order-voided`: the key was voided and can no longer make an order",
               422: "`idempotency-key-reused` for a different order, or `user_id` is no "
                    "such user",
               503: "the same key is being placed by another request, or the user service "
                    "did not answer"})
def internal_create_order() -> Response:
    callers.service()
    body = parse_body(body_of(app), InternalOrderBody)
    taken = take_order(intake_deps(), body)
    return json_response(taken.order, 201 if taken.created else 200)


@app.route("/internal/orders/void", methods=["POST"])
@operation("Settle a key for good: its order, or a promise that none will be made",
           Access.SERVICE, Answer(200, "the order under the key, or voided", VoidOut),
           body=VoidBody)
def internal_void_order() -> Response:
    rt = runtime()
    callers.service()
    body = parse_body(body_of(app), VoidBody)
    with transaction(rt.sessions) as session:
        order = order_book.void_key(session, body.idempotency_key)
        view = order_view(order) if order is not None else None
    return json_response({"order": view, "voided": view is None})


@app.route("/orders", methods=["GET"])
@operation("The caller's orders, oldest first (a superadmin: everyone's)", Access.USER,
           Answer(200, "a page of orders", OrderPage), params=page_params())
def list_orders() -> Response:
    rt = runtime()
    user = callers.user()
    page = page_request(request_of(app).query_params)
    with transaction(rt.sessions) as session:
        return json_response(order_book.list_orders(session, page, _owner_filter(user)))


@app.route("/orders/{order_id}", methods=["GET"])
@operation("One order of the caller's (a superadmin: any)", Access.USER,
           Answer(200, "the order", OrderOut),
           problems={404: "no such order, or another user's (indistinguishable)"})
def get_order(order_id: str) -> Response:
    rt = runtime()
    user = callers.user()
    with transaction(rt.sessions) as session:
        order = order_book.get_order(session, order_id, _owner_filter(user))
        return json_response(order_view(order))


@app.route("/health", methods=["GET"])
@health_operation()
def health() -> Response:
    return health_response(runtime())


@app.schedule(Rate(1, unit=Rate.MINUTES))
def relay_outbox(event: CloudWatchEvent) -> None:
    """Publish `order.placed` events the request could not (broker down, crash)."""
    relay_unpublished(runtime(), OutboxEvent)
