"""Product service routes. The logic lives in chalicelib; each route states who may call it."""

from __future__ import annotations

import json
import uuid

from chalice.app import Chalice, CloudWatchEvent, Rate, Response

from chalicelib import catalog
from chalicelib.cache_keys import page_key, product_key
from chalicelib.deps import catalog_cache, ordering_deps, runtime
from chalicelib.idempotency import idempotency_key
from chalicelib.order_placement import place_order
from chalicelib.reservations import OrderRequest
from chalicelib.schemas import (
    PlaceOrderBody,
    ProductBody,
    ProductOut,
    ProductPage,
    product_view,
)
from chalicelib.sweeper import settle_due_reservations
from shop_common.api_models import OrderOut
from shop_common.api_spec import (
    Access,
    Answer,
    Header,
    Link,
    Param,
    health_operation,
    operation,
    page_params,
)
from shop_common.callers import Callers
from shop_common.db import transaction
from shop_common.docs import install_api_docs
from shop_common.health import health_response
from shop_common.openapi import ApiInfo
from shop_common.pagination import page_request
from shop_common.validation import parse_body
from shop_common.web import body_of, install_http_middleware, json_response, request_of

app = Chalice(app_name="shop-product")
install_http_middleware(app)
callers = Callers(app, runtime)
install_api_docs(app, ApiInfo(
    title="Serverless Shop: product service", version="1.0.0",
    description="The catalog (cache-aside in Redis: `X-Cache: HIT|MISS`), superadmin "
                "product management, and placing orders (a stock reservation, then the "
                "order service) under the buyer's `Idempotency-Key`. Errors are "
                "`application/problem+json` (RFC 9457).",
))

# A created product's id feeds the routes about that product (for stateful API tests).
PRODUCT_LINKS = {
    name: Link(operation, {"product_id": "$response.body#/id"}) for name, operation in (
        ("GetProduct", "get_product"), ("ReplaceProduct", "replace_product"),
        ("DeleteProduct", "delete_product"), ("OrderProduct", "order_product"))
}
X_CACHE = Header("X-Cache", "HIT: served from the cache; MISS: read from the database",
                 {"type": "string", "enum": ["HIT", "MISS"]})
LOCKED = "`locked` (the product is being changed by another request: retry)"


@app.route("/products", methods=["GET"])
@operation("List products, oldest first, a page at a time", Access.USER,
           Answer(200, "a page of products", ProductPage, headers=(X_CACHE,)),
           params=page_params())
def list_products() -> Response:
    rt = runtime()
    callers.user()
    page = page_request(request_of(app).query_params)

    def load() -> str:
        with transaction(rt.sessions) as session:
            return json.dumps(catalog.list_page(session, page))

    cached = catalog_cache().get_or_load(page_key(page), load)
    return json_response(cached.body, headers={"X-Cache": cached.source})


@app.route("/products/{product_id}", methods=["GET"])
@operation("One product", Access.USER,
           Answer(200, "the product", ProductOut, headers=(X_CACHE,)),
           problems={404: "no such product"})
def get_product(product_id: str) -> Response:
    rt = runtime()
    callers.user()
    key = catalog.parse_id(product_id)

    def load() -> str:
        with transaction(rt.sessions) as session:
            return json.dumps(product_view(catalog.get_product(session, key)))

    # A 404 raises out of load() and is never cached.
    cached = catalog_cache().get_or_load(product_key(key), load)
    return json_response(cached.body, headers={"X-Cache": cached.source})


@app.route("/products", methods=["POST"])
@operation("Create a product", Access.SUPERADMIN,
           Answer(201, "the new product", ProductOut, links=PRODUCT_LINKS), body=ProductBody)
def create_product() -> Response:
    rt = runtime()
    callers.superadmin()
    body = parse_body(body_of(app), ProductBody)
    with transaction(rt.sessions) as session:
        view = product_view(catalog.create_product(session, body))
    catalog_cache().invalidate()  # after the commit, before the response
    return json_response(view, 201)


@app.route("/products/{product_id}", methods=["PUT"])
@operation("Replace a product (every field; a missing description becomes empty)",
           Access.SUPERADMIN, Answer(200, "the product as stored", ProductOut), body=ProductBody,
           problems={404: "no such product", 409: LOCKED})
def replace_product(product_id: str) -> Response:
    rt = runtime()
    callers.superadmin()
    key = catalog.parse_id(product_id)
    body = parse_body(body_of(app), ProductBody)
    with transaction(rt.sessions) as session:
        view = product_view(catalog.replace_product(session, key, body))
    catalog_cache().invalidate()
    return json_response(view)


@app.route("/products/{product_id}", methods=["DELETE"])
@operation("Delete a product", Access.SUPERADMIN, Answer(204, "deleted"),
           problems={404: "no such product", 409: LOCKED})
def delete_product(product_id: str) -> Response:
    rt = runtime()
    callers.superadmin()
    key = catalog.parse_id(product_id)
    with transaction(rt.sessions) as session:
        catalog.delete_product(session, key)
    catalog_cache().invalidate()
    return Response(body="", status_code=204)


@app.route("/products/{product_id}/orders", methods=["POST"])
@operation(
    "Order a product", Access.ENDUSER,
    Answer(201, "the order, placed (or the same order again for a repeated key)", OrderOut,
           headers=(Header("Idempotent-Replayed", "`true` when this answers a repeated key",
                           {"type": "string", "enum": ["true"]}, required=False),)),
    body=PlaceOrderBody,
    params=(Param("Idempotency-Key", "header",
                  "names this order request: the same key again gets the same answer "
                  "and takes the stock once", {"type": "string", "pattern": r"^[!-~]{1,255}$"},
                  required=True),),
    problems={
        400: "the Idempotency-Key header is missing or not 1-255 visible ASCII characters",
        404: "no such product",
        409: "`out-of-stock` (with `available`), " + LOCKED + ", `order-rejected` by the "
             "order service, or `order-expired` (a repeated key whose order never completed)",
        422: "`idempotency-key-reused`: the key was used for a different request",
        503: "`order-unconfirmed`: the order service did not answer; retry with the same key",
    },
    description="The stock is reserved first and the order service then records the "
                "order; repeat the request with the same `Idempotency-Key` after a "
                "timeout or a 503 and it completes exactly once.",
)
def order_product(product_id: str) -> Response:
    buyer = callers.enduser()
    key = idempotency_key(request_of(app).headers)
    product_key = catalog.parse_id(product_id)
    body = parse_body(body_of(app), PlaceOrderBody)
    answer = place_order(ordering_deps(), OrderRequest(
        user_id=uuid.UUID(buyer.user_id), product_id=product_key,
        idempotency_key=key, quantity=body.quantity,
    ))
    headers = dict(answer.headers)
    if answer.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(answer.body, answer.status, headers)


@app.route("/health", methods=["GET"])
@health_operation()
def health() -> Response:
    return health_response(runtime())


@app.schedule(Rate(1, unit=Rate.MINUTES))
def settle_reservations(event: CloudWatchEvent) -> None:
    settle_due_reservations(ordering_deps())
