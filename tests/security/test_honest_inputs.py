"""Bodies mean what they say: no control characters in any field of any body of any
service, JSON numbers read exactly, money in ASCII digits only.

Every route with a body gets a valid one, then each of its fields in turn replaced by a
string holding CR/LF: the answer must be a 422 naming that field (and nothing stored).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests

from tests.security.conftest import Accounts, Minter, Services, create_product
from tests.security.test_no_server_errors import (
    ALLOWED_CALLER,
    ENDUSER,
    PUBLIC,
    ROUTES,
    SERVICE,
    SUPERADMIN,
    USER,
    Route,
)
from tests.support.client import DEFAULT_PASSWORD, unique_email

pytestmark = pytest.mark.integration

BODY_ROUTES = [route for route in ROUTES if route.fields]
FORGED_LINES = "Ann\r\nBcc: victim@example.com"
TEXT_FIELDS = {"email", "password", "name", "description", "product_name", "idempotency_key"}


def valid_body(route: Route, accounts: Accounts) -> dict[str, Any]:
    candidates: dict[str, Any] = {
        "email": unique_email("honest"), "password": DEFAULT_PASSWORD, "name": "Ann",
        "role": "enduser", "description": "A mug", "price": "9.99", "stock": 5,
        "quantity": 1, "idempotency_key": uuid.uuid4().hex, "user_id": accounts.alice["id"],
        "product_id": str(uuid.uuid4()), "product_name": "Mug", "unit_price": "9.99",
    }
    if route.path.startswith("/products"):
        candidates["name"] = f"Mug {uuid.uuid4().hex[:6]}"
    return {name: candidates[name] for name in route.fields}


def send(services: Services, minter: Minter, accounts: Accounts, route: Route,
         body: bytes, product_id: str) -> requests.Response:
    token = {
        PUBLIC: lambda: None,
        USER: lambda: minter.user(accounts.alice["id"]),
        ENDUSER: lambda: minter.user(accounts.alice["id"]),
        SUPERADMIN: lambda: minter.user(accounts.superadmin_id, "superadmin"),
        SERVICE: lambda: minter.service(ALLOWED_CALLER[route.service], route.service),
    }[route.auth]()
    return services.client(route.service).call(
        route.method, route.path.replace("{id}", product_id), token=token, data=body,
        headers={"Idempotency-Key": uuid.uuid4().hex})


@pytest.fixture(scope="module")
def product_id(services: Services, minter: Minter, accounts: Accounts) -> str:
    return str(create_product(services, minter, accounts)["id"])


def bad_fields(response: requests.Response) -> set[str]:
    assert response.status_code == 422, response.text
    return {error["field"] for error in response.json()["errors"]}


@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_every_field_of_every_body_refuses_forged_lines(
    services: Services, minter: Minter, accounts: Accounts, product_id: str, route: Route,
) -> None:
    for field in route.fields:
        body = {**valid_body(route, accounts), field: FORGED_LINES}
        response = send(services, minter, accounts, route, json.dumps(body).encode(),
                        product_id)
        assert bad_fields(response) == {field}, f"{route} {field}: {response.text}"
        if field in TEXT_FIELDS:  # others say what they expect instead (a UUID, a number)
            message = next(e["message"] for e in response.json()["errors"])
            assert message == "must not contain control characters (U+000D CR)", message


def test_a_name_with_a_line_separator_or_an_override_is_refused(services: Services) -> None:
    for name in ("Ann\u2028Bcc: victim@example.com", "Ann\u202egnp.exe", "Ann\x00"):
        response = services.user.call("POST", "/users/register", json={
            "email": unique_email("honest"), "password": DEFAULT_PASSWORD, "name": name})
        assert bad_fields(response) == {"name"}


def test_a_latin1_name_is_refused_not_stored_with_replacement_characters(
        services: Services) -> None:
    # The gateway decodes a body that is not UTF-8 with U+FFFD, as API Gateway does: the
    # client must get a problem, not a 201 and a welcome email greeting "Ren\ufffd".
    fields = f'"email": "{unique_email("latin1")}", "password": "{DEFAULT_PASSWORD}"'
    body = ("{" + fields + ', "name": "Ren\xe9"}').encode("latin-1")
    assert bad_fields(services.user.call("POST", "/users/register", data=body)) == {"name"}


def test_a_name_of_invisible_format_characters_only_is_refused(services: Services) -> None:
    for name in ("\u00ad", "\ufeff", "\U000e0041\U000e0064\U000e006d"):
        response = services.user.call("POST", "/users/register", json={
            "email": unique_email("honest"), "password": DEFAULT_PASSWORD, "name": name})
        assert bad_fields(response) == {"name"}, repr(name)


def test_a_number_too_long_for_python_is_a_422_naming_its_field(services: Services) -> None:
    # 5,000 digits: past Python's int(str) limit, whose message names interpreter internals;
    # then a 400 that did not say which field held it.
    fields = f'"email": "{unique_email("digits")}", "password": "{DEFAULT_PASSWORD}"'
    body = "{" + fields + ', "name": "Ann", "age": ' + "7" * 5000 + "}"
    response = services.user.call("POST", "/users/register", data=body)
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"field": "age", "message": "a number longer than 4300 characters"}]


def test_a_body_over_64_kib_is_a_413_problem(services: Services) -> None:
    # It was a 400 "too-large" that the API reference did not list.
    body = json.dumps({"email": unique_email("big"), "password": DEFAULT_PASSWORD,
                       "name": "n" * 100_000})
    response = services.user.call("POST", "/users/register", data=body)
    assert response.status_code == 413, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/payload-too-large")
    assert "65536 (64 KiB)" in problem["detail"] and problem["instance"] == "/users/register"


def test_an_exponent_out_of_range_anywhere_is_a_422_naming_where(services: Services) -> None:
    # Anonymous, on the login route: a 500 (decimal.InvalidOperation) before the fix.
    response = services.user.call("POST", "/users/login", data=(
        '{"email": "q@example.com", "password": "x", "z": 1E+99999999999999999999999}'))
    assert response.status_code == 422, response.text
    assert {"field": "z", "message": "a number whose exponent is beyond ±1000"} in (
        response.json()["errors"])


def product_body(price: str) -> bytes:
    """A product body with `price` exactly as written (json.dumps would round a float)."""
    return (f'{{"name": "Exact {uuid.uuid4().hex[:6]}", "description": "", '
            f'"price": {price}, "stock": 1}}').encode()


@pytest.mark.parametrize("price", [
    "9.999999999999999999",  # the JSON number: it was stored as 10.00
    '"٩.٩٩"',  # Arabic-Indic digits, once read as 9.99
    '"９.９９"',  # full-width digits, once read as 9.99  # noqa: RUF001 (the point)
    "1e-3", "NaN", "Infinity",
    "1e1000000", "-1e99999999",  # a 500: abs() overflowed Decimal's context
    "1E+99999999999999999999999",  # a 500: past what Decimal can hold at all
])
def test_a_price_that_is_not_exactly_two_ascii_places_is_refused(
    services: Services, minter: Minter, accounts: Accounts, price: str,
) -> None:
    route = Route("product", "POST", "/products", SUPERADMIN, ("name", "price"))
    response = send(services, minter, accounts, route, product_body(price), "")
    if price in ("NaN", "Infinity"):  # not JSON at all (RFC 8259 §6)
        assert response.status_code == 400, response.text
    else:
        assert bad_fields(response) == {"price"}


@pytest.mark.parametrize(("price", "stored"), [
    ("9.99", "9.99"), ("9.990000000000000000", "9.99"), ("1e1", "10.00"), ('"0.50"', "0.50"),
])
def test_an_exact_price_is_kept_as_sent(
    services: Services, minter: Minter, accounts: Accounts, price: str, stored: str,
) -> None:
    route = Route("product", "POST", "/products", SUPERADMIN, ("name", "price"))
    response = send(services, minter, accounts, route, product_body(price), "")
    assert response.status_code == 201, response.text
    assert response.json()["price"] == stored


def test_the_internal_order_price_is_read_exactly_too(
    services: Services, minter: Minter, accounts: Accounts,
) -> None:
    route = next(r for r in BODY_ROUTES if r.path == "/internal/orders")
    body = json.dumps({**valid_body(route, accounts), "unit_price": "PRICE"}).replace(
        '"PRICE"', "9.999999999999999999").encode()
    assert bad_fields(send(services, minter, accounts, route, body, "")) == {"unit_price"}
