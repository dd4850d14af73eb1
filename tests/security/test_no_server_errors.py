"""No request, however malformed, makes a service fail (README, "Security").

Generated requests go to every route of the real user, product and order services of
the session's throw-away stack: JSON bodies (known and unknown fields, wrong types,
huge numbers, NaN, deep values, long and odd unicode strings, raw bytes), path ids,
`limit` and `cursor`, Authorization and Idempotency-Key headers. Whatever comes in,
the answer is never a 5xx (but a proper 503 problem), every 4xx is a problem whose
`status` is the HTTP status, a 422 names its fields, and a route that needs a token
never answers 2xx without one it accepts.

Three inputs once answered 500 and are pinned by explicit cases: NUL characters in
text that reaches PostgreSQL, JSON nested past Python's recursion limit, and cursors
whose time a datetime cannot hold in UTC (which also left a pooled connection broken,
so those run on processes of their own). The generators keep cursor times in range and
nesting shallow, so that a regression there is reported by its own case instead of
breaking the session's shared processes for every test after it.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.exceptions import InvalidURL
from requests.utils import unquote_unreserved

from shop_common.pagination import Position, encode_cursor
from tests.integration.ordering.conftest import spawn
from tests.security.conftest import (
    Accounts,
    Minter,
    Services,
    assert_well_formed,
    create_product,
    declared_routes,
    place_order,
)
from tests.support.client import ShopClient
from tests.support.stack import ServiceProcess, ThrowawayStack

pytestmark = pytest.mark.integration

# Deterministic (CI runs the same examples every time) and bounded: 60 requests a route.
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
        HealthCheck.data_too_large, HealthCheck.filter_too_much,
    ],
)


# --- the routes ------------------------------------------------------------------------

PUBLIC, USER, ENDUSER, SUPERADMIN, SERVICE = "public", "user", "enduser", "superadmin", "service"

# The caller whose service token each service's internal routes accept.
ALLOWED_CALLER = {"user": "order", "order": "product", "product": "order"}


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str  # `{id}` stands for the path parameter
    auth: str  # who the route lets in
    fields: tuple[str, ...] = ()  # the body's known fields
    ids: str = ""  # which real ids fill `{id}`
    paged: bool = False

    def __str__(self) -> str:
        return f"{self.service}:{self.method} {self.path}"


ROUTES = [
    Route("user", "POST", "/users/register", PUBLIC, ("email", "password", "name")),
    Route("user", "POST", "/users/login", PUBLIC, ("email", "password")),
    Route("user", "GET", "/users/me", USER),
    Route("user", "POST", "/admin/users", SUPERADMIN, ("email", "password", "name", "role")),
    Route("user", "GET", "/internal/users/{id}", SERVICE, ids="user"),
    Route("user", "GET", "/.well-known/jwks.json", PUBLIC),
    Route("user", "GET", "/health", PUBLIC),
    Route("product", "GET", "/products", USER, paged=True),
    Route("product", "GET", "/products/{id}", USER, ids="product"),
    Route("product", "POST", "/products", SUPERADMIN, ("name", "description", "price", "stock")),
    Route("product", "PUT", "/products/{id}", SUPERADMIN, ("name", "description", "price", "stock"),
          ids="product"),
    Route("product", "DELETE", "/products/{id}", SUPERADMIN, ids="product"),
    Route("product", "POST", "/products/{id}/orders", ENDUSER, ("quantity",), ids="product"),
    Route("product", "GET", "/health", PUBLIC),
    Route("order", "POST", "/internal/orders", SERVICE, (
        "idempotency_key", "user_id", "product_id", "product_name", "quantity", "unit_price")),
    Route("order", "POST", "/internal/orders/void", SERVICE, ("idempotency_key",)),
    Route("order", "GET", "/orders", USER, paged=True),
    Route("order", "GET", "/orders/{id}", USER, ids="order"),
    Route("order", "GET", "/health", PUBLIC),
    # Each service's API docs (shop_common.docs).
    *(route for service in ("user", "product", "order") for route in (
        Route(service, "GET", "/openapi.json", PUBLIC),
        Route(service, "GET", "/docs", PUBLIC),
        Route(service, "GET", "/docs/static/{id}", PUBLIC, ids="asset"),
    )),
]


class Targets:
    """Real ids for path parameters and bodies, so generated requests also reach past 404s."""

    def __init__(self, ids: dict[str, list[str]]) -> None:
        self.ids = ids

    def __repr__(self) -> str:  # short in hypothesis' reports (a dataclass prints every field)
        return "Targets(...)"


@pytest.fixture(scope="module")
def targets(services: Services, minter: Minter, accounts: Accounts) -> Targets:
    products = [create_product(services, minter, accounts) for _ in range(3)]
    placed = place_order(services, minter.user(accounts.alice["id"]), products[0]["id"])
    assert placed.status_code == 201, placed.text
    return Targets({
        "user": [accounts.alice["id"], accounts.bob["id"], accounts.superadmin_id],
        "product": [p["id"] for p in products],
        "order": [placed.json()["id"]],
        "asset": ["index.css", "favicon-16x16.png"],
    })


# --- generators --------------------------------------------------------------------------

NASTY = [
    "", " ", "\t\n", "\x00", "a\x00b", "\ud800", "a\udfffb", "\u202e\u2066", "🛒" * 20, "é",
    "\uff45", "İ",
    "' OR '1'='1", "'; DROP TABLE users; --", "{{7*7}}", "${jndi:ldap://x/a}", "%s%n%x",
    "<script>alert(1)</script>", "\\", "../../etc/passwd", "NaN", "Infinity", "-0", "1e309",
    "0x10", "null", "true", "[]", "{}",
]


def long_text(minimum: int, maximum: int) -> st.SearchStrategy[str]:
    units = st.sampled_from(["x", "é", "🛒", "a\u0301", "\ud800", "\x00"])
    return st.builds(lambda c, n: c * n, units, st.integers(minimum, maximum))


texts = st.one_of(
    st.text(max_size=40), st.sampled_from(NASTY), long_text(100, 5000),
)
huge_ints = st.one_of(
    st.integers(-(2**80), 2**80),
    st.sampled_from([0, -1, 2**31, 2**31 - 1, 2**63, -(2**63) - 1, 10**100, -(10**4000)]),
)
scalars = st.one_of(
    st.none(), st.booleans(), huge_ints, st.floats(), texts,
)


def containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(inner, max_size=4),
                     st.dictionaries(st.text(max_size=12), inner, max_size=4))


json_values = st.recursive(scalars, containers, max_leaves=12)
# Deep, but well inside json's recursion limit (past it: test_deeply_nested_json_*).
deep_values = st.builds(
    lambda depth, leaf, as_list: json.loads(
        ("[" * depth + json.dumps(leaf) + "]" * depth) if as_list
        else ('{"a":' * depth + json.dumps(leaf) + "}" * depth)),
    st.integers(20, 300), st.sampled_from([1, "x", None]), st.booleans(),
)
anything = st.one_of(json_values, deep_values)

money = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["9.99", "0.01", "0.001", "0", "-1.00", "99999999.99", "100000000",
                     "1e3", " 9.99 ", "9,99", "9.990", "+1.5"]),
    st.floats(), huge_ints,
)
counts = st.one_of(
    huge_ints, st.integers(-2, 1002), st.sampled_from([10**9, 10**9 + 1, 1.0, 2.5, "3", True]),
)


def field_values(name: str, targets: Targets) -> st.SearchStrategy[Any]:
    real_users = st.sampled_from(targets.ids["user"])
    real_products = st.sampled_from(targets.ids["product"])
    plausible: dict[str, st.SearchStrategy[Any]] = {
        "email": st.one_of(st.emails(), texts,
                           st.builds(lambda u: f"{u}@example.com", st.uuids().map(str))),
        "password": st.one_of(texts, st.sampled_from(["correct-horse-battery-9", "short1",
                                                      "a1" * 65, "password123"])),
        "name": texts,
        "description": st.one_of(texts, long_text(1990, 2010)),
        "role": st.sampled_from(["enduser", "superadmin", "SUPERADMIN", "root", ""]),
        "price": money,
        "unit_price": money,
        "stock": counts,
        "quantity": counts,
        "idempotency_key": st.one_of(st.uuids().map(str), texts),
        "user_id": st.one_of(real_users, st.uuids().map(str), texts),
        "product_id": st.one_of(real_products, st.uuids().map(str), texts),
        "product_name": texts,
    }
    return st.one_of(plausible[name], plausible[name], anything)


@st.composite
def bodies(draw: st.DrawFn, route: Route, targets: Targets) -> bytes | None:
    shape = draw(st.sampled_from(["object", "object", "object", "none", "raw", "any"]))
    if shape == "none":
        return None
    if shape == "raw":
        return draw(st.one_of(
            st.binary(max_size=64),
            st.sampled_from([b"", b"{", b"null", b"[]", b'"x"', b"1", b"\x00", b"\xff\xfe{}",
                             b'{"a":1,"a":2}', b"{'a': 1}", b" " * 70_000,
                             b'{"price":1e1000000,"stock":1e999999999,"quantity":-1E-99999}',
                             b'{"a":1E+99999999999999999999999}']),
        ))
    if shape == "any":
        body: Any = draw(anything)
    else:
        known = draw(st.fixed_dictionaries(
            {}, optional={name: field_values(name, targets) for name in route.fields}))
        unknown = draw(st.dictionaries(st.text(max_size=20), anything, max_size=3))
        body = {**unknown, **known} if draw(st.booleans()) else {**known, **unknown}
    text = json.dumps(body, allow_nan=True, ensure_ascii=draw(st.booleans()))
    return text.encode("utf-8", "surrogatepass")


def header_value(text: str) -> str | bytes:
    """What an HTTP client can put on the wire: one line, no leading blank; UTF-8 if need be."""
    value = text.replace("\r", "").replace("\n", "").strip()
    try:
        value.encode("latin-1")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")


header_texts = st.one_of(
    st.text(max_size=60), st.sampled_from(NASTY), long_text(256, 4000),
    st.text(st.characters(codec="ascii"), max_size=60),
)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@st.composite
def jwt_like(draw: st.DrawFn) -> str:
    header = draw(st.one_of(
        st.fixed_dictionaries({"alg": st.sampled_from(["EdDSA", "RS256", "HS256", "none", ""]),
                               "kid": st.one_of(st.sampled_from(["user", "product", "order",
                                                                 "user-tokens-1"]), anything)}),
        json_values))
    claims = draw(st.one_of(
        st.fixed_dictionaries({"sub": anything, "role": st.sampled_from(["superadmin", "x"]),
                               "exp": huge_ints, "typ": st.sampled_from(["user", "service"])}),
        json_values))
    signature = draw(st.binary(max_size=64))
    return ".".join([b64(json.dumps(header).encode("utf-8", "surrogatepass")),
                     b64(json.dumps(claims).encode("utf-8", "surrogatepass")), b64(signature)])


# What a generated Authorization header is; the token itself is minted when sent.
ACCEPTED_BY = {
    PUBLIC: set(),
    USER: {"enduser", "superadmin", "ghost"},
    ENDUSER: {"enduser", "ghost"},
    SUPERADMIN: {"superadmin"},
    SERVICE: {"service"},
}
AUTH_KINDS = [
    "none", "enduser", "superadmin", "ghost", "service", "service-wrong-audience",
    "service-long-lived", "expired", "garbage", "jwt-garbage", "other-scheme",
]
auth_kinds = st.one_of(st.just("route"), st.sampled_from(AUTH_KINDS))


def authorization(kind: str, route: Route, minter: Minter, accounts: Accounts,
                  draw: st.DrawFn) -> str | bytes | None:
    caller = ALLOWED_CALLER[route.service]
    other = next(s for s in ("user", "product", "order") if s != route.service)
    tokens = {
        "enduser": lambda: minter.user(accounts.alice["id"]),
        "superadmin": lambda: minter.user(accounts.superadmin_id, "superadmin"),
        # Signed, valid, for an account that does not exist.
        "ghost": lambda: minter.user(str(uuid.uuid4())),
        "service": lambda: minter.service(caller, route.service),
        "service-wrong-audience": lambda: minter.service(caller, other),
        "service-long-lived": lambda: minter.service(caller, route.service, ttl=3600),
        "expired": lambda: minter.expired_user(accounts.alice["id"]),
        "garbage": lambda: draw(header_texts),
        "jwt-garbage": lambda: draw(jwt_like()),
    }
    if kind == "none":
        return None
    if kind == "other-scheme":
        return draw(st.sampled_from(["Basic dXNlcjpwYXNz", "Digest x=1", "bearer", "Bearer",
                                     "Bearer ", "BEARER x", "Token abc", "Bearer a b c"]))
    return header_value(f"{draw(st.sampled_from(['Bearer', 'bearer', 'Bearer ']))} "
                        f"{tokens[kind]()}")


def route_kind(route: Route) -> str:
    return {PUBLIC: "none", USER: "enduser", ENDUSER: "enduser", SUPERADMIN: "superadmin",
            SERVICE: "service"}[route.auth]


def not_a_dot_segment(segment: str) -> bool:
    # A client normalises "." and ".." away: that is another route, not this one's id.
    try:
        return unquote_unreserved(segment) not in ("", ".", "..")
    except InvalidURL:  # "%zz": requests sends it escaped as "%25zz"
        return True


def escaped(text: str) -> str:
    """Every byte of the text percent-encoded, as a client sends a path segment."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


PERCENT_JUNK = ["%00", "%ff", "%FE", "%2F", "%5C", "%25", "%", "%zz", "%E2%80%AE", "%C0%AF",
                "%F0%9F%9B%92", "%0d%0a", "%u0000", "%3F", "%23", "%20"]


def path_ids(targets: Targets, kind: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(targets.ids[kind]),
        st.uuids().map(str),
        st.uuids().map(lambda u: u.hex.upper()),
        st.uuids().map(lambda u: f"{{{u}}}"),
        st.uuids().map(lambda u: f"urn:uuid:{u}"),
        st.text(min_size=1, max_size=40).map(escaped),
        long_text(200, 6000).map(escaped),
        st.lists(st.sampled_from(PERCENT_JUNK), min_size=1, max_size=6).map("".join),
        st.sampled_from(["0", "-1", "1e9", "null", "00000000-0000-0000-0000-000000000000"]),
    ).filter(not_a_dot_segment)


# Times a datetime can hold in UTC too (outside that: test_an_out_of_range_cursor_*).
offsets = st.timedeltas(min_value=-timedelta(hours=23, minutes=59),
                        max_value=timedelta(hours=23, minutes=59))
safe_times = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 30),
                          timezones=st.one_of(st.none(), st.builds(timezone, offsets)))
cursors = st.one_of(
    st.text(max_size=40),
    long_text(150, 400),
    json_values.map(lambda v: b64(json.dumps(v).encode("utf-8", "surrogatepass"))),
    st.builds(lambda t, i: b64(json.dumps({"t": t.isoformat(), "i": i}).encode()),
              safe_times, st.one_of(st.uuids().map(str), texts)),
    st.builds(lambda t, i: encode_cursor(Position(t, i)),
              safe_times.filter(lambda t: t.tzinfo is not None), st.uuids()),
)
limits = st.one_of(
    huge_ints.map(str), st.integers(-1, 102).map(str), st.text(max_size=10),
    st.sampled_from(["", "1.5", "\uff11", "٣", "1e2", " 5", "0x10", "+5"]),
)


@st.composite
def queries(draw: st.DrawFn, route: Route) -> str:
    if not route.paged and draw(st.integers(0, 3)):
        return ""
    params = draw(st.fixed_dictionaries({}, optional={
        "limit": limits, "cursor": cursors, "junk": st.text(max_size=20)}))
    pairs = list(params.items())
    if draw(st.booleans()) and pairs:  # a repeated parameter
        pairs.append(pairs[0])
    query = urlencode([(k, v.encode("utf-8", "surrogatepass")) for k, v in pairs], quote_via=quote)
    return f"?{query}" if query else ""


@st.composite
def requests_for(draw: st.DrawFn, route: Route, targets: Targets, minter: Minter,
                 accounts: Accounts) -> tuple[str, dict[str, str | bytes], bytes | None, str]:
    path = route.path
    if "{id}" in path:
        path = path.replace("{id}", draw(path_ids(targets, route.ids)))
    path += draw(queries(route))
    kind = draw(auth_kinds)
    kind = route_kind(route) if kind == "route" else kind
    headers: dict[str, str | bytes] = {}
    value = authorization(kind, route, minter, accounts, draw)
    if value is not None:
        headers["Authorization"] = value
    key = draw(st.one_of(
        st.none(), st.uuids().map(lambda u: u.hex), st.uuids().map(lambda u: u.hex),
        header_texts, long_text(200, 4000),
    ))
    if key is not None:
        headers["Idempotency-Key"] = header_value(key)
    content_type = draw(st.sampled_from(
        ["application/json", "application/json", "application/json; charset=utf-8", None,
         "text/plain", "application/x-www-form-urlencoded"]))
    if content_type:
        headers["Content-Type"] = content_type
    if draw(st.integers(0, 4)) == 0:
        headers["X-Request-Id"] = header_value(draw(header_texts))
    return path, headers, draw(bodies(route, targets)), kind


def send(client: ShopClient, method: str, path: str, headers: Mapping[str, str | bytes],
         body: bytes | None) -> requests.Response:
    # Straight through requests: ShopClient.call always adds a JSON content type.
    return client.session.request(method, client.base_url + path, headers=headers, data=body,
                                  timeout=30)


@pytest.mark.parametrize("route", ROUTES, ids=str)
@FUZZ
@given(data=st.data())
def test_generated_requests_never_fail_a_route(
    route: Route, services: Services, minter: Minter, accounts: Accounts, targets: Targets,
    data: st.DataObject,
) -> None:
    path, headers, body, kind = data.draw(requests_for(route, targets, minter, accounts))
    response = send(services.client(route.service), route.method, path, headers, body)
    assert_well_formed(response)
    if route.auth != PUBLIC and kind not in ACCEPTED_BY[route.auth]:
        assert response.status_code >= 400, (
            f"{route} let a {kind!r} caller in: {response.status_code} {response.text[:300]}")


@FUZZ
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
       route=st.sampled_from(ROUTES), token=st.booleans())
def test_any_method_on_any_route_is_answered_with_a_problem_or_success(
    services: Services, minter: Minter, accounts: Accounts, method: str, route: Route,
    token: bool,
) -> None:
    path = route.path.replace("{id}", str(uuid.uuid4()))
    headers = {"Authorization": f"Bearer {minter.user(accounts.alice['id'])}"} if token else {}
    response = send(services.client(route.service), method, path, headers, b"{}")
    assert_well_formed(response)


# --- inputs that once answered 500, and one known bug: a case each ---------------------

def nul_case(label: str, service: str, method: str, path: str, auth: str,
             body: dict[str, Any]) -> Any:
    return pytest.param(service, method, path, auth, body, id=label)


def fresh_email() -> str:
    return f"nul-{uuid.uuid4().hex[:10]}@example.com"


GOOD_PASSWORD = "correct-horse-battery-9"


def nul_cases() -> list[Any]:
    product_body = {"name": "Nul", "description": "", "price": "1.00", "stock": 1}
    internal = {"idempotency_key": "nul-key", "user_id": "{alice}",
                "product_id": str(uuid.uuid4()), "product_name": "Kettle", "quantity": 1,
                "unit_price": "1.00"}
    return [
        nul_case("login-email", "user", "POST", "/users/login", PUBLIC,
                 {"email": "a\x00b@example.com", "password": GOOD_PASSWORD}),
        nul_case("login-password", "user", "POST", "/users/login", PUBLIC,
                 {"email": "{email}", "password": "a\x00b"}),
        nul_case("register-email", "user", "POST", "/users/register", PUBLIC,
                 {"email": "a\x00b@example.com", "password": GOOD_PASSWORD, "name": "N"}),
        nul_case("register-name", "user", "POST", "/users/register", PUBLIC,
                 {"email": "{email}", "password": GOOD_PASSWORD, "name": "Nul\x00Name"}),
        nul_case("register-password", "user", "POST", "/users/register", PUBLIC,
                 {"email": "{email}", "password": "correct-horse\x00-9", "name": "N"}),
        nul_case("admin-users-name", "user", "POST", "/admin/users", SUPERADMIN,
                 {"email": "{email}", "password": GOOD_PASSWORD, "name": "Nul\x00",
                  "role": "enduser"}),
        nul_case("create-product-name", "product", "POST", "/products", SUPERADMIN,
                 {**product_body, "name": "Nul\x00"}),
        nul_case("create-product-description", "product", "POST", "/products", SUPERADMIN,
                 {**product_body, "description": "Nul\x00"}),
        nul_case("replace-product-name", "product", "PUT", "/products/{product}", SUPERADMIN,
                 {**product_body, "name": "Nul\x00"}),
        nul_case("replace-product-description", "product", "PUT", "/products/{product}",
                 SUPERADMIN, {**product_body, "description": "Nul\x00"}),
        nul_case("internal-orders-key", "order", "POST", "/internal/orders", SERVICE,
                 {**internal, "idempotency_key": "nul\x00key"}),
        nul_case("internal-orders-product-name", "order", "POST", "/internal/orders", SERVICE,
                 {**internal, "product_name": "Nul\x00"}),
        nul_case("internal-orders-void-key", "order", "POST", "/internal/orders/void", SERVICE,
                 {"idempotency_key": "nul\x00key"}),
    ]


def route_token(auth: str, service: str, minter: Minter, accounts: Accounts) -> str | None:
    if auth == SUPERADMIN:
        return minter.user(accounts.superadmin_id, "superadmin")
    if auth == ENDUSER:
        return minter.user(accounts.alice["id"])
    if auth == SERVICE:
        return minter.service(ALLOWED_CALLER[service], service)
    return None


@pytest.mark.parametrize(("service", "method", "path", "auth", "body"), nul_cases())
def test_a_nul_character_in_a_text_field_is_a_4xx_not_a_500(
    services: Services, minter: Minter, accounts: Accounts, targets: Targets,
    service: str, method: str, path: str, auth: str, body: dict[str, Any],
) -> None:
    filled = {k: v.replace("{email}", fresh_email()).replace("{alice}", accounts.alice["id"])
              if isinstance(v, str) else v for k, v in body.items()}
    response = services.client(service).call(
        method, path.replace("{product}", targets.ids["product"][-1]),
        token=route_token(auth, service, minter, accounts), data=json.dumps(filled))
    assert_well_formed(response)


BODY_ROUTES = [r for r in ROUTES if r.fields]


@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
@pytest.mark.parametrize("opener", ["[", '{"a":'], ids=["list", "object"])
def test_deeply_nested_json_is_a_400_not_a_500(
    services: Services, minter: Minter, accounts: Accounts, targets: Targets, route: Route,
    opener: str,
) -> None:
    depth = 3000
    body = opener * depth + "1" + ("]" if opener == "[" else "}") * depth
    path = route.path.replace("{id}", targets.ids["product"][-1])
    response = services.client(route.service).call(
        route.method, path, token=route_token(route.auth, route.service, minter, accounts),
        data=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert_well_formed(response)
    assert response.status_code == 400


def odd_subject_case(service: str, method: str, path: str) -> Any:
    return pytest.param(service, method, path, id=f"{method} {path}")


@pytest.mark.parametrize(("service", "method", "path"), [
    odd_subject_case("user", "GET", "/users/me"),
    odd_subject_case("product", "GET", "/products"),
    odd_subject_case("product", "POST", "/products/{product}/orders"),
    odd_subject_case("order", "GET", "/orders"),
    odd_subject_case("order", "GET", "/orders/{order}"),
])
def test_a_signed_token_with_an_odd_subject_is_refused(
    services: Services, minter: Minter, targets: Targets, service: str, method: str, path: str,
) -> None:
    token = minter.user("not-a-uuid")
    path = path.replace("{product}", targets.ids["product"][-1])
    path = path.replace("{order}", targets.ids["order"][0])
    response = services.client(service).call(method, path, token=token, json={"quantity": 1},
                                             headers={"Idempotency-Key": uuid.uuid4().hex})
    assert_well_formed(response)
    assert response.status_code == 401  # the token itself is refused


# A cursor whose time cannot be converted to UTC (year 1 at +23:59, year 9999 at -23:59):
# pg8000 raises OverflowError while binding it, and that connection goes back to the pool
# broken, so later, valid requests on it fail too. These run on processes of their own.
OUT_OF_RANGE_TIMES = ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"]


@pytest.fixture(scope="module")
def isolated(stack: ThrowawayStack, services: Services) -> Iterator[dict[str, ServiceProcess]]:
    """A product and an order process that only these cases use (and may break)."""
    processes = {name: spawn(stack, name) for name in ("product", "order")}
    try:
        yield processes
    finally:
        for process in processes.values():
            process.stop()


def out_of_range_cursor(time_text: str) -> str:
    return b64(json.dumps({"t": time_text, "i": str(uuid.uuid4())}).encode())


@pytest.mark.parametrize("listing", [("product", "/products"), ("order", "/orders")],
                         ids=["products", "orders"])
def test_an_out_of_range_cursor_is_a_422(
    isolated: dict[str, ServiceProcess], minter: Minter, accounts: Accounts,
    listing: tuple[str, str],
) -> None:
    service, path = listing
    client = ShopClient.to(isolated[service].url)
    token = minter.user(accounts.alice["id"])
    for time_text in OUT_OF_RANGE_TIMES:
        response = client.call("GET", f"{path}?cursor={out_of_range_cursor(time_text)}",
                               token=token)
        assert_well_formed(response)
        assert response.status_code == 422


@pytest.mark.parametrize("listing", [("product", "/products"), ("order", "/orders")],
                         ids=["products", "orders"])
def test_valid_requests_still_succeed_after_an_out_of_range_cursor(
    isolated: dict[str, ServiceProcess], minter: Minter, accounts: Accounts,
    listing: tuple[str, str],
) -> None:
    service, path = listing
    client = ShopClient.to(isolated[service].url)
    token = minter.user(accounts.alice["id"])
    client.call("GET", f"{path}?cursor={out_of_range_cursor(OUT_OF_RANGE_TIMES[0])}", token=token)
    statuses = [client.call("GET", path, token=token).status_code for _ in range(12)]
    assert statuses == [200] * 12


def test_every_route_of_the_three_services_is_generated_for() -> None:
    declared = set().union(*(declared_routes(s) for s in ("user", "product", "order")))
    assert declared == {(r.service, r.method, r.path) for r in ROUTES}
