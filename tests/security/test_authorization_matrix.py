"""Who may call what: every route of the three HTTP services by every kind of caller.

Each row is a valid request to one route; each column a caller. A cell is the status
that caller gets (README, "Tokens"): user routes take user tokens only, internal
routes take service tokens addressed to that service from an allowed caller only,
superadmin routes refuse endusers (403), placing an order refuses superadmins (403),
and /health and /.well-known/jwks.json are public. Then BOLA: another user's order is
404, exactly like one that does not exist, while a superadmin sees it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.security.conftest import (
    Accounts,
    Minter,
    Services,
    assert_well_formed,
    create_product,
    declared_routes,
    place_order,
)
from tests.support.client import DEFAULT_PASSWORD, register, unique_email

pytestmark = pytest.mark.integration

COLUMNS = ["none", "enduser", "superadmin", "service", "service-wrong-audience",
           "service-not-allowed", "expired"]

# The caller whose service token a service's internal routes accept, and one they refuse.
ALLOWED_CALLER = {"user": "order", "product": "order", "order": "product"}
REFUSED_CALLER = {"user": "user", "product": "user", "order": "user"}


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(COLUMNS, status)


def users(ok: int) -> dict[str, int]:
    return {**everyone(401), "enduser": ok, "superadmin": ok}


def superadmins(ok: int) -> dict[str, int]:
    return {**everyone(401), "enduser": 403, "superadmin": ok}


def endusers(ok: int) -> dict[str, int]:
    return {**everyone(401), "enduser": ok, "superadmin": 403}


def services_only(ok: int) -> dict[str, int]:
    return {**everyone(401), "service": ok, "service-not-allowed": 403}


@dataclass
class World:
    """What the requests refer to: made once for the whole matrix."""

    services: Services
    minter: Minter
    accounts: Accounts
    product: dict[str, Any]
    order: dict[str, Any]
    login_email: str

    def fresh_product(self) -> dict[str, Any]:
        return create_product(self.services, self.minter, self.accounts)


@dataclass(frozen=True)
class Row:
    service: str
    method: str
    path: str
    expected: dict[str, int]
    # A valid request: (path with ids filled in, JSON body, extra headers).
    build: Callable[[World], tuple[str, Any, dict[str, str]]]

    @property
    def label(self) -> str:
        return f"{self.service}:{self.method} {self.path}"


def plain(path: str) -> Callable[[World], tuple[str, Any, dict[str, str]]]:
    return lambda _world: (path, None, {})


def product_body() -> dict[str, Any]:
    return {"name": f"Matrix {uuid.uuid4().hex[:8]}", "description": "matrix", "price": "3.50",
            "stock": 100}


def internal_order(world: World) -> dict[str, Any]:
    return {"idempotency_key": uuid.uuid4().hex, "user_id": world.accounts.alice["id"],
            "product_id": str(uuid.uuid4()), "product_name": "Matrix", "quantity": 1,
            "unit_price": "3.50"}


ROWS = [
    Row("user", "POST", "/users/register", everyone(201), lambda w: (
        "/users/register",
        {"email": unique_email("matrix"), "password": DEFAULT_PASSWORD, "name": "M"}, {})),
    Row("user", "POST", "/users/login", everyone(200), lambda w: (
        "/users/login", {"email": w.login_email, "password": DEFAULT_PASSWORD}, {})),
    Row("user", "GET", "/users/me", users(200), plain("/users/me")),
    Row("user", "POST", "/admin/users", superadmins(201), lambda w: (
        "/admin/users", {"email": unique_email("matrix-admin"), "password": DEFAULT_PASSWORD,
                         "name": "M", "role": "enduser"}, {})),
    Row("user", "GET", "/internal/users/{id}", services_only(200), lambda w: (
        f"/internal/users/{w.accounts.alice['id']}", None, {})),
    Row("user", "GET", "/.well-known/jwks.json", everyone(200), plain("/.well-known/jwks.json")),
    Row("user", "GET", "/health", everyone(200), plain("/health")),
    Row("product", "GET", "/products", users(200), plain("/products?limit=5")),
    Row("product", "GET", "/products/{id}", users(200), lambda w: (
        f"/products/{w.product['id']}", None, {})),
    Row("product", "POST", "/products", superadmins(201), lambda w: (
        "/products", product_body(), {})),
    Row("product", "PUT", "/products/{id}", superadmins(200), lambda w: (
        f"/products/{w.product['id']}", {**product_body(), "stock": 1000}, {})),
    Row("product", "DELETE", "/products/{id}", superadmins(204), lambda w: (
        f"/products/{w.fresh_product()['id']}", None, {})),
    Row("product", "POST", "/products/{id}/orders", endusers(201), lambda w: (
        f"/products/{w.product['id']}/orders", {"quantity": 1},
        {"Idempotency-Key": uuid.uuid4().hex})),
    Row("product", "GET", "/health", everyone(200), plain("/health")),
    Row("order", "GET", "/orders", users(200), plain("/orders?limit=5")),
    Row("order", "GET", "/orders/{id}", users(200), lambda w: (
        f"/orders/{w.order['id']}", None, {})),
    Row("order", "POST", "/internal/orders", services_only(201), lambda w: (
        "/internal/orders", internal_order(w), {})),
    Row("order", "POST", "/internal/orders/void", services_only(200), lambda w: (
        "/internal/orders/void", {"idempotency_key": uuid.uuid4().hex}, {})),
    Row("order", "GET", "/health", everyone(200), plain("/health")),
    # Each service's API docs are public.
    *(row for service in ("user", "product", "order") for row in (
        Row(service, "GET", "/openapi.json", everyone(200), plain("/openapi.json")),
        Row(service, "GET", "/docs", everyone(200), plain("/docs")),
        Row(service, "GET", "/docs/static/{id}", everyone(200), plain("/docs/static/index.css")),
    )),
]


def bearer(column: str, service: str, minter: Minter, accounts: Accounts) -> str | None:
    other = next(s for s in ("user", "product", "order") if s != service)
    tokens: dict[str, Callable[[], str]] = {
        "enduser": lambda: minter.user(accounts.alice["id"]),
        "superadmin": lambda: minter.user(accounts.superadmin_id, "superadmin"),
        "service": lambda: minter.service(ALLOWED_CALLER[service], service),
        "service-wrong-audience": lambda: minter.service(ALLOWED_CALLER[service], other),
        "service-not-allowed": lambda: minter.service(REFUSED_CALLER[service], service),
        "expired": lambda: minter.expired_user(accounts.alice["id"]),
    }
    return tokens[column]() if column in tokens else None


@pytest.fixture(scope="module")
def world(services: Services, minter: Minter, accounts: Accounts) -> World:
    product = create_product(services, minter, accounts, stock=10_000)
    placed = place_order(services, minter.user(accounts.alice["id"]), product["id"])
    assert placed.status_code == 201, placed.text
    login_email = register(services.user, name="Matrix Login")["email"]
    return World(services, minter, accounts, product, placed.json(), login_email)


def test_every_route_of_the_three_services_is_in_the_matrix() -> None:
    declared = set().union(*(declared_routes(s) for s in ("user", "product", "order")))
    assert declared == {(r.service, r.method, r.path) for r in ROWS}


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.label)
def test_each_caller_gets_the_status_the_route_allows(
    world: World, row: Row, column: str,
) -> None:
    path, body, headers = row.build(world)
    response = world.services.client(row.service).call(
        row.method, path, token=bearer(column, row.service, world.minter, world.accounts),
        json=body, headers=headers)
    assert_well_formed(response)
    assert response.status_code == row.expected[column], (
        f"{row.label} as {column}: {response.status_code} {response.text[:300]}")


def test_a_refused_caller_changes_nothing(world: World) -> None:
    """The matrix's 401s and 403s come before any write (spot-checked on one product)."""
    product = world.fresh_product()
    url = f"/products/{product['id']}"
    for column in ("none", "superadmin", "service", "service-wrong-audience", "expired"):
        token = bearer(column, "product", world.minter, world.accounts)
        assert place_order(world.services, token or "", product["id"]).status_code in (401, 403)
    for column in ("none", "enduser", "service", "expired"):
        token = bearer(column, "product", world.minter, world.accounts)
        for method in ("PUT", "DELETE"):
            response = world.services.product.call(method, url, token=token, json=product_body())
            assert response.status_code in (401, 403), response.text
    alice = world.minter.user(world.accounts.alice["id"])
    after = world.services.product.call("GET", url, token=alice)
    assert after.status_code == 200 and after.json() == product


# --- BOLA -------------------------------------------------------------------------------

def all_order_ids(world: World, token: str) -> set[str]:
    ids: set[str] = set()
    cursor = ""
    while True:
        page = world.services.order.call("GET", f"/orders?limit=100{cursor}", token=token)
        assert page.status_code == 200, page.text
        ids |= {o["id"] for o in page.json()["items"]}
        if page.json()["next_cursor"] is None:
            return ids
        cursor = f"&cursor={page.json()['next_cursor']}"


def problem_shape(response: requests.Response) -> tuple[Any, ...]:
    body = response.json()
    return response.status_code, body["type"], body["title"], body["detail"]


def test_another_users_order_is_404_like_a_missing_one_and_a_superadmin_sees_it(
    world: World,
) -> None:
    minter, accounts = world.minter, world.accounts
    alice = minter.user(accounts.alice["id"])
    bob = minter.user(accounts.bob["id"])
    superadmin = minter.user(accounts.superadmin_id, "superadmin")
    order_id = world.order["id"]
    orders = world.services.order

    as_bob = orders.call("GET", f"/orders/{order_id}", token=bob)
    missing = orders.call("GET", f"/orders/{uuid.uuid4()}", token=bob)
    assert_well_formed(as_bob)
    assert problem_shape(as_bob) == problem_shape(missing)
    assert as_bob.status_code == 404
    assert order_id not in all_order_ids(world, bob)

    for token in (alice, superadmin):
        seen = orders.call("GET", f"/orders/{order_id}", token=token)
        assert seen.status_code == 200 and seen.json() == world.order
    assert order_id in all_order_ids(world, alice)
    assert order_id in all_order_ids(world, superadmin)


def test_another_users_idempotency_key_places_a_new_order_of_ones_own(world: World) -> None:
    """A key names a request of one buyer: reusing Alice's never replays Alice's order."""
    alice = world.minter.user(world.accounts.alice["id"])
    bob = world.minter.user(world.accounts.bob["id"])
    key = uuid.uuid4().hex
    url = f"/products/{world.product['id']}/orders"
    hers = world.services.product.call("POST", url, token=alice, json={"quantity": 1},
                                       headers={"Idempotency-Key": key})
    his = world.services.product.call("POST", url, token=bob, json={"quantity": 1},
                                      headers={"Idempotency-Key": key})
    assert hers.status_code == his.status_code == 201, his.text
    assert his.json()["id"] != hers.json()["id"]
    assert his.json()["user_id"] == world.accounts.bob["id"]
    assert "Idempotent-Replayed" not in his.headers


def test_one_user_cannot_read_another_through_the_internal_lookup(world: World) -> None:
    bob = world.minter.user(world.accounts.bob["id"])
    response = world.services.user.call(
        "GET", f"/internal/users/{world.accounts.alice['id']}", token=bob)
    assert_well_formed(response)
    assert response.status_code == 401
    assert world.accounts.alice["email"] not in response.text
