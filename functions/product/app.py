"""Product service routes. The logic lives in chalicelib; each route states who may call it."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from chalice.app import Chalice, CloudWatchEvent, Rate, Request, Response

from chalicelib import catalog
from chalicelib.deps import catalog_cache, ordering_deps, runtime
from chalicelib.idempotency import idempotency_key
from chalicelib.ordering import place_order
from chalicelib.reservations import OrderRequest
from chalicelib.schemas import PlaceOrderBody, ProductBody, product_view
from chalicelib.sweeper import settle_due_reservations
from shop_common.auth import current_enduser, current_superadmin, current_user
from shop_common.db import transaction
from shop_common.errors import PROBLEM_CONTENT_TYPE, Problem
from shop_common.health import health_report
from shop_common.pagination import page_request
from shop_common.validation import parse_body
from shop_common.web import install_http_middleware

app = Chalice(app_name="shop-product")
install_http_middleware(app)


def _request() -> Request:
    request = app.current_request
    assert request is not None, "only called while serving a request"
    return request


def _body() -> bytes | None:
    raw = _request().raw_body
    return raw.encode() if isinstance(raw, str) else raw


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content_type = PROBLEM_CONTENT_TYPE if status >= 400 else "application/json"
    text = body if isinstance(body, str) else json.dumps(body)
    return Response(body=text, status_code=status,
                    headers={"Content-Type": content_type, **(headers or {})})


@app.route("/products", methods=["GET"])
def list_products() -> Response:
    rt = runtime()
    current_user(_request().headers, rt.keys, rt.settings)
    page = page_request(_request().query_params)

    def load() -> str:
        with transaction(rt.sessions) as session:
            return json.dumps(catalog.list_page(session, page))

    cursor_digest = hashlib.sha256(page.cursor.encode()).hexdigest()[:32]
    cached = catalog_cache().get_or_load(("list", str(page.limit), cursor_digest), load)
    return _json(cached.body, headers={"X-Cache": cached.source})


@app.route("/products/{product_id}", methods=["GET"])
def get_product(product_id: str) -> Response:
    rt = runtime()
    current_user(_request().headers, rt.keys, rt.settings)
    with transaction(rt.sessions) as session:
        return _json(product_view(catalog.get_product(session, catalog.parse_id(product_id))))


@app.route("/products", methods=["POST"])
def create_product() -> Response:
    rt = runtime()
    current_superadmin(_request().headers, rt.keys, rt.settings)
    body = parse_body(_body(), ProductBody)
    with transaction(rt.sessions) as session:
        view = product_view(catalog.create_product(session, body))
    catalog_cache().invalidate()  # after the commit, before the response
    return _json(view, 201)


@app.route("/products/{product_id}", methods=["PUT"])
def replace_product(product_id: str) -> Response:
    rt = runtime()
    current_superadmin(_request().headers, rt.keys, rt.settings)
    key = catalog.parse_id(product_id)
    body = parse_body(_body(), ProductBody)
    with transaction(rt.sessions) as session:
        view = product_view(catalog.replace_product(session, key, body))
    catalog_cache().invalidate()
    return _json(view)


@app.route("/products/{product_id}", methods=["DELETE"])
def delete_product(product_id: str) -> Response:
    rt = runtime()
    current_superadmin(_request().headers, rt.keys, rt.settings)
    key = catalog.parse_id(product_id)
    with transaction(rt.sessions) as session:
        catalog.delete_product(session, key)
    catalog_cache().invalidate()
    return Response(body="", status_code=204)


@app.route("/products/{product_id}/orders", methods=["POST"])
def order_product(product_id: str) -> Response:
    rt = runtime()
    buyer = current_enduser(_request().headers, rt.keys, rt.settings)
    key = idempotency_key(_request().headers)
    product_key = catalog.parse_id(product_id)
    body = parse_body(_body(), PlaceOrderBody)
    answer = place_order(ordering_deps(), OrderRequest(
        user_id=uuid.UUID(buyer.user_id), product_id=product_key,
        idempotency_key=key, quantity=body.quantity,
    ))
    headers = dict(answer.headers)
    if answer.replayed:
        headers["Idempotent-Replayed"] = "true"
    return _json(answer.body, answer.status, headers)


@app.route("/health", methods=["GET"])
def health() -> Response:
    status, body = health_report(runtime())
    if status == 200:
        return _json(body)
    # Degraded: a problem document that still carries every check's state.
    failing = sorted(name for name, check in body["checks"].items() if check["status"] != "up")
    raise Problem(status, "Service Unavailable", "degraded: " + ", ".join(failing),
                  slug="degraded", extra={"service": body["service"], "checks": body["checks"]})


@app.schedule(Rate(1, unit=Rate.MINUTES))
def settle_reservations(event: CloudWatchEvent) -> None:
    settle_due_reservations(ordering_deps())
