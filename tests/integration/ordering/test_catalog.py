"""The catalog over real HTTP: CRUD for superadmins, reads for everyone signed in, the cache."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.integration.ordering.conftest import problem, scalar
from tests.support.client import ShopClient, new_enduser
from tests.support.stack import ThrowawayStack

pytestmark = pytest.mark.integration


def test_superadmin_can_create_read_update_and_delete_a_product(
    product_service: ShopClient, superadmin_token: str, user_service: ShopClient
) -> None:
    created = product_service.call("POST", "/products", token=superadmin_token, json={
        "name": "  Teapot ", "description": "cast iron", "price": 19.5, "stock": 3})
    assert created.status_code == 201, created.text
    product = created.json()
    assert product["name"] == "Teapot" and product["price"] == "19.50" and product["stock"] == 3
    assert set(product) == {"id", "name", "description", "price", "stock", "created_at",
                            "updated_at"}

    _, reader = new_enduser(user_service)
    fetched = product_service.call("GET", f"/products/{product['id']}", token=reader)
    assert fetched.status_code == 200 and fetched.json() == product

    replaced = product_service.call("PUT", f"/products/{product['id']}", token=superadmin_token,
                                    json={"name": "Teapot", "price": "21.00", "stock": 7})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["price"] == "21.00" and replaced.json()["description"] == ""
    assert replaced.json()["updated_at"] > product["updated_at"]

    deleted = product_service.call("DELETE", f"/products/{product['id']}", token=superadmin_token)
    assert deleted.status_code == 204
    problem(product_service.call("GET", f"/products/{product['id']}", token=reader), 404)
    problem(product_service.call("DELETE", f"/products/{product['id']}",
                                 token=superadmin_token), 404)


def test_listing_pages_with_a_cursor_until_the_end(
    product_service: ShopClient, superadmin_token: str, new_product
) -> None:
    mine = {new_product()["id"] for _ in range(3)}
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        query = "/products?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = product_service.call("GET", query, token=superadmin_token)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert mine <= set(seen)
    assert len(seen) == len(set(seen)), "a product appeared on two pages"


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "limit=-1",
                                   "cursor=not-a-cursor", "cursor=" + "A" * 300])
def test_bad_paging_parameters_are_422_naming_the_parameter(
    product_service: ShopClient, superadmin_token: str, query: str
) -> None:
    body = problem(product_service.call("GET", f"/products?{query}", token=superadmin_token), 422)
    assert {e["field"] for e in body["errors"]} == {query.split("=")[0]}


def forged_cursor(stamp: object, key: object) -> str:
    raw = json.dumps({"t": stamp, "i": key}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    forged_cursor("2026-01-01T00:00:00+00:00", 5),
    forged_cursor("2026-01-01T00:00:00+00:00", ["x"]),
    forged_cursor("0001-01-01T00:00:00+14:00", str(uuid.uuid4())),
    forged_cursor("9999-12-31T23:59:59-14:00", str(uuid.uuid4())),
])
def test_a_forged_cursor_is_a_422_and_breaks_nothing_for_the_next_reader(
    product_service: ShopClient, order_service: ShopClient, superadmin_token: str,
    new_product, cursor: str,
) -> None:
    # These were 500s; the out-of-range timestamps also left a pooled database
    # connection mid-protocol, failing the next requests that drew it.
    product = new_product()
    for service, path in ((product_service, "/products"), (order_service, "/orders")):
        body = problem(service.call("GET", f"{path}?cursor={cursor}", token=superadmin_token),
                       422)
        assert [e["field"] for e in body["errors"]] == ["cursor"]
    for _ in range(12):  # more than the pool keeps idle: every connection is drawn
        read = product_service.call("GET", f"/products/{product['id']}", token=superadmin_token)
        assert read.status_code == 200, read.text
        missing = order_service.call("GET", f"/orders/{uuid.uuid4()}", token=superadmin_token)
        assert missing.status_code == 404, missing.text


def test_json_nested_too_deep_is_a_400_problem(
    product_service: ShopClient, superadmin_token: str
) -> None:
    problem(product_service.call("POST", "/products", token=superadmin_token,
                                 data=b"[" * 30_000 + b"]" * 30_000), 400)


def test_listing_needs_a_signed_in_user(product_service: ShopClient) -> None:
    problem(product_service.call("GET", "/products"), 401)
    problem(product_service.call("GET", "/products", token="not-a-token"), 401)


def test_an_enduser_gets_403_on_every_write_route(
    product_service: ShopClient, user_service: ShopClient, new_product
) -> None:
    product = new_product(stock=5)
    _, token = new_enduser(user_service)
    body = {"name": "Hijacked", "price": "1.00", "stock": 0}
    problem(product_service.call("POST", "/products", token=token, json=body), 403)
    problem(product_service.call("PUT", f"/products/{product['id']}", token=token, json=body), 403)
    problem(product_service.call("DELETE", f"/products/{product['id']}", token=token), 403)
    after = product_service.call("GET", f"/products/{product['id']}", token=token).json()
    assert after == product


@pytest.mark.parametrize(("body", "fields"), [
    ({"name": "X", "price": "9.999", "stock": 1}, {"price"}),
    ({"name": "X", "price": 9.999, "stock": 1}, {"price"}),
    ({"name": "X", "price": "0", "stock": 1}, {"price"}),
    ({"name": "X", "price": -1, "stock": 1}, {"price"}),
    ({"name": "X", "price": "abc", "stock": 1}, {"price"}),
    ({"name": "X", "price": "1e3", "stock": 1}, {"price"}),
    ({"name": "X", "price": True, "stock": 1}, {"price"}),
    ({"name": "X", "price": "100000000.00", "stock": 1}, {"price"}),
    ({"name": "X", "price": "1.00", "stock": -1}, {"stock"}),
    ({"name": "X", "price": "1.00", "stock": 1.5}, {"stock"}),
    ({"name": "X", "price": "1.00", "stock": "3"}, {"stock"}),
    ({"name": "X", "price": "1.00", "stock": 10**12}, {"stock"}),
    ({"name": "", "price": "1.00", "stock": 1}, {"name"}),
    ({"name": "x" * 201, "price": "1.00", "stock": 1}, {"name"}),
    ({"name": "X", "price": "1.00", "stock": 1, "discount": 5}, {"discount"}),
    ({"price": "1.00"}, {"name", "stock"}),
    # PostgreSQL refuses U+0000 in text: these were 500s at the INSERT.
    ({"name": "Tea\u0000pot", "price": "1.00", "stock": 1}, {"name"}),
    ({"name": "X", "description": "\u0000", "price": "1.00", "stock": 1}, {"description"}),
])
def test_bad_product_bodies_are_422_naming_each_field_and_change_nothing(
    stack: ThrowawayStack, product_service: ShopClient, superadmin_token: str, body, fields
) -> None:
    before = scalar(stack, "product", "SELECT count(*) FROM products")
    response = product_service.call("POST", "/products", token=superadmin_token, json=body)
    assert {e["field"] for e in problem(response, 422)["errors"]} == fields
    assert scalar(stack, "product", "SELECT count(*) FROM products") == before


def test_a_bad_update_changes_nothing(
    product_service: ShopClient, superadmin_token: str, new_product
) -> None:
    product = new_product(price="5.00")
    response = product_service.call("PUT", f"/products/{product['id']}", token=superadmin_token,
                                    json={"name": "Y", "price": "5.001", "stock": 1})
    problem(response, 422)
    after = product_service.call("GET", f"/products/{product['id']}", token=superadmin_token)
    assert after.json() == product


@pytest.mark.parametrize("product_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_unknown_products_are_404(
    product_service: ShopClient, superadmin_token: str, product_id: str
) -> None:
    problem(product_service.call("GET", f"/products/{product_id}", token=superadmin_token), 404)
    problem(product_service.call("PUT", f"/products/{product_id}", token=superadmin_token,
                                 json={"name": "X", "price": "1.00", "stock": 1}), 404)


def test_a_product_has_one_url(
    product_service: ShopClient, superadmin_token: str, new_product
) -> None:
    # uuid.UUID() took other spellings: DELETE /products/<32 bare digits> deleted it.
    product = new_product(price="5.00")
    known = uuid.UUID(product["id"])
    for other in (known.hex, "{" + product["id"] + "}", known.urn):
        problem(product_service.call("GET", f"/products/{other}", token=superadmin_token), 404)
        problem(product_service.call("DELETE", f"/products/{other}", token=superadmin_token),
                404)
    upper = product_service.call("GET", f"/products/{product['id'].upper()}",
                                 token=superadmin_token)
    assert upper.status_code == 200 and upper.json() == product  # RFC 9562 §4: any case


def test_listing_is_a_miss_then_a_hit_and_a_write_is_seen_by_the_very_next_read(
    product_service: ShopClient, superadmin_token: str, new_product
) -> None:
    product = new_product(price="10.00")  # a write: the next read is a miss
    first = product_service.call("GET", "/products?limit=100", token=superadmin_token)
    second = product_service.call("GET", "/products?limit=100", token=superadmin_token)
    assert first.headers["X-Cache"] == "MISS" and second.headers["X-Cache"] == "HIT"
    assert first.json() == second.json()

    updated = product_service.call("PUT", f"/products/{product['id']}", token=superadmin_token,
                                   json={"name": product["name"], "price": "12.34", "stock": 10})
    assert updated.status_code == 200
    listing = product_service.call("GET", "/products?limit=100", token=superadmin_token)
    prices = {item["id"]: item["price"] for item in listing.json()["items"]}
    assert listing.headers["X-Cache"] == "MISS" and prices[product["id"]] == "12.34"

    product_service.call("DELETE", f"/products/{product['id']}", token=superadmin_token)
    listing = product_service.call("GET", "/products?limit=100", token=superadmin_token)
    assert product["id"] not in {item["id"] for item in listing.json()["items"]}


def test_a_cold_key_read_by_many_at_once_reaches_the_database_once(
    product_service: ShopClient, superadmin_token: str, new_product
) -> None:
    new_product()  # bumps the cache version: every listing key is cold
    readers = 24
    barrier = threading.Barrier(readers)

    def read(_: int) -> str:
        with requests.Session() as session:
            barrier.wait(timeout=30)
            response = session.get(product_service.base_url + "/products?limit=7",
                                   headers={"Authorization": f"Bearer {superadmin_token}"},
                                   timeout=30)
        assert response.status_code == 200, response.text
        return response.headers["X-Cache"]

    with ThreadPoolExecutor(readers) as pool:
        results = list(pool.map(read, range(readers)))
    assert results.count("MISS") == 1 and results.count("HIT") == readers - 1


def test_the_catalog_is_served_from_the_database_when_redis_is_down(
    stack: ThrowawayStack, superadmin_token: str, new_product, extra_process, free_tcp_port
) -> None:
    product = new_product()
    cacheless = extra_process("product", SHOP_PRODUCT_REDIS_URL=f"redis://127.0.0.1:{free_tcp_port}/0")
    health = requests.get(cacheless.url + "/health", timeout=5)
    assert health.status_code == 503 and health.json()["checks"]["cache"]["status"] == "down"
    client = ShopClient.to(cacheless.url)
    for _ in range(2):
        listing = client.call("GET", "/products?limit=100", token=superadmin_token)
        assert listing.status_code == 200 and listing.headers["X-Cache"] == "MISS"
    assert product["id"] in {item["id"] for item in listing.json()["items"]}
    # Writes still work, and a working cache elsewhere sees them.
    updated = client.call("PUT", f"/products/{product['id']}", token=superadmin_token,
                          json={"name": product["name"], "price": "3.21", "stock": 1})
    assert updated.status_code == 200 and updated.json()["price"] == "3.21"


def test_a_row_lock_that_cannot_be_had_is_a_409_not_a_hang(
    stack: ThrowawayStack, product_service: ShopClient, superadmin_token: str, new_product
) -> None:
    product = new_product()
    engine = create_engine(stack.env["SHOP_PRODUCT_DATABASE_URL"])
    try:
        with engine.connect() as holder, holder.begin():
            holder.execute(text("SELECT 1 FROM products WHERE id = :id FOR UPDATE"),
                           {"id": product["id"]})
            response = product_service.call(
                "PUT", f"/products/{product['id']}", token=superadmin_token,
                json={"name": "Locked", "price": "1.00", "stock": 1})
            assert problem(response, 409)["type"].endswith("locked")
    finally:
        engine.dispose()
    again = product_service.call("PUT", f"/products/{product['id']}", token=superadmin_token,
                                 json={"name": "Unlocked", "price": "1.00", "stock": 1})
    assert again.status_code == 200
