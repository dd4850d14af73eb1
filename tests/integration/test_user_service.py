"""The user service over real HTTP, against its own throw-away PostgreSQL and Redis."""

from __future__ import annotations

import base64
import json
import socket
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import create_engine, text

from shop_common.keys import load_private_key, service_key_name
from shop_common.superadmin_answer import SuperadminAnswer, SuperadminOutcome
from shop_common.tokens import issue_service_token, issue_user_token
from tests.support.client import (
    DEFAULT_PASSWORD,
    ShopClient,
    login,
    new_enduser,
    register,
    unique_email,
)
from tests.support.stack import ThrowawayStack

pytestmark = pytest.mark.integration


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"] and body["detail"]
    return body


def bad_fields(response) -> set[str]:
    return {error["field"] for error in problem(response, 422)["errors"]}


def count(stack: ThrowawayStack, sql: str, **params) -> int:
    engine = create_engine(stack.env["SHOP_USER_DATABASE_URL"])
    with engine.connect() as connection:
        value = connection.execute(text(sql), params).scalar_one()
    engine.dispose()
    return int(value)


def test_can_register_login_and_read_me(user_service: ShopClient) -> None:
    email = unique_email()
    user = register(user_service, email=email, name="Ann")
    assert user["email"] == email and user["role"] == "enduser" and user["name"] == "Ann"
    assert "password" not in json.dumps(user) and "hash" not in json.dumps(user)

    response = user_service.call("POST", "/users/login",
                                 json={"email": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900

    me = user_service.call("GET", "/users/me", token=body["access_token"])
    assert me.status_code == 200 and me.json()["id"] == user["id"]


def test_signup_writes_an_outbox_row_in_the_same_transaction(
    stack: ThrowawayStack, user_service: ShopClient
) -> None:
    user = register(user_service)
    rows = count(
        stack,
        "SELECT count(*) FROM outbox WHERE event_type = 'user.signed_up' "
        "AND payload->'data'->>'user_id' = :id AND payload->'data'->>'email' = :email",
        id=user["id"], email=user["email"],
    )
    assert rows == 1


def test_email_is_case_insensitive_and_taken_only_once(user_service: ShopClient) -> None:
    email = unique_email()
    register(user_service, email=email)
    again = user_service.call("POST", "/users/register", json={
        "email": email.upper(), "password": DEFAULT_PASSWORD, "name": "Twin"})
    assert problem(again, 409)["type"].endswith("email-taken")


@pytest.mark.parametrize(("body", "fields"), [
    ({"email": "not-an-email", "password": DEFAULT_PASSWORD, "name": "X"}, {"email"}),
    ({"email": "a@example.com", "password": "short1", "name": "X"}, {"password"}),
    ({"email": "a@example.com", "password": "onlyletterslong", "name": "X"}, {"password"}),
    ({"email": "a@example.com", "password": "password123", "name": "X"}, {"password"}),
    ({"email": "a@example.com", "password": DEFAULT_PASSWORD, "name": "x" * 101}, {"name"}),
    ({"email": "a" * 250 + "@example.com", "password": DEFAULT_PASSWORD, "name": "X"}, {"email"}),
    ({"email": 12, "password": ["x"], "name": None}, {"email", "password", "name"}),
    ({"password": DEFAULT_PASSWORD}, {"email", "name"}),
    # PostgreSQL refuses U+0000 in text: this was a 500 at the INSERT.
    ({"email": "a@example.com", "password": DEFAULT_PASSWORD, "name": "A\u0000B"}, {"name"}),
])
def test_register_names_every_bad_field(user_service: ShopClient, body, fields) -> None:
    assert bad_fields(user_service.call("POST", "/users/register", json=body)) == fields


def test_register_rejects_role_and_creates_no_superadmin(
    stack: ThrowawayStack, user_service: ShopClient
) -> None:
    email = unique_email("sneaky")
    response = user_service.call("POST", "/users/register", json={
        "email": email, "password": DEFAULT_PASSWORD, "name": "X", "role": "superadmin"})
    assert bad_fields(response) == {"role"}
    assert count(stack, "SELECT count(*) FROM users WHERE email = :e", e=email) == 0


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_malformed_bodies_are_400_problems(user_service: ShopClient, raw: bytes) -> None:
    problem(user_service.call("POST", "/users/register", data=raw), 400)


def test_a_wrong_password_is_a_401(user_service: ShopClient) -> None:
    # Throttling after repeated failures: tests/integration/test_login_throttling.py.
    user = register(user_service)
    wrong = user_service.call("POST", "/users/login",
                              json={"email": user["email"], "password": "wrong-password-1"})
    assert problem(wrong, 401)["detail"] == "wrong email or password"


def test_a_nul_character_in_the_login_email_is_a_422_not_a_500(user_service: ShopClient) -> None:
    response = user_service.call("POST", "/users/login",
                                 json={"email": "ann\u0000@example.com", "password": "x"})
    assert bad_fields(response) == {"email"}


def test_unknown_email_login_is_the_same_401(user_service: ShopClient) -> None:
    response = user_service.call("POST", "/users/login",
                                 json={"email": unique_email(), "password": DEFAULT_PASSWORD})
    assert problem(response, 401)["detail"] == "wrong email or password"


def forged_tokens(stack: ThrowawayStack, user_id: str) -> dict[str, str]:
    keys_dir = stack.workdir / "keys"
    real_key = load_private_key(keys_dir, "user-tokens")
    claims = dict(user_id=user_id, role="enduser", issuer="shop-user-service", audience="shop")
    valid = issue_user_token(real_key, ttl_seconds=900, **claims)
    header, payload, signature = valid.split(".")
    raised = json.loads(base64.urlsafe_b64decode(payload + "=="))
    raised["role"] = "superadmin"
    tampered_payload = base64.urlsafe_b64encode(json.dumps(raised).encode()).rstrip(b"=").decode()
    none_token = jwt.encode(
        {**raised, "role": "enduser"}, None, algorithm="none"  # type: ignore[arg-type]
    )
    return {
        "expired": issue_user_token(
            real_key, ttl_seconds=60, now=int(time.time()) - 3600, **claims
        ),
        "tampered": f"{header}.{tampered_payload}.{signature}",
        "alg-none": none_token,
        "wrong-key": issue_user_token(ed25519.Ed25519PrivateKey.generate(), ttl_seconds=900,
                                      **claims),
        "wrong-audience": issue_user_token(real_key, ttl_seconds=900, **{
            **claims, "audience": "someone-else"}),
        "wrong-issuer": issue_user_token(real_key, ttl_seconds=900, **{
            **claims, "issuer": "evil"}),
        "service-token": issue_service_token(
            load_private_key(keys_dir, service_key_name("order")),
            caller="order", audience="user", ttl_seconds=30),
        "garbage": "not.a.token",
    }


@pytest.mark.parametrize("kind", [
    "expired", "tampered", "alg-none", "wrong-key", "wrong-audience", "wrong-issuer",
    "service-token", "garbage",
])
def test_bad_tokens_are_refused_on_user_routes(
    stack: ThrowawayStack, user_service: ShopClient, kind: str
) -> None:
    user, _ = new_enduser(user_service)
    token = forged_tokens(stack, user["id"])[kind]
    problem(user_service.call("GET", "/users/me", token=token), 401)


def test_enduser_cannot_create_users_but_superadmin_can(
    user_service: ShopClient, superadmin_token: str
) -> None:
    _, enduser_token = new_enduser(user_service)
    body = {"email": unique_email("admin"), "password": DEFAULT_PASSWORD, "name": "Boss",
            "role": "superadmin"}
    problem(user_service.call("POST", "/admin/users", token=enduser_token, json=body), 403)
    problem(user_service.call("POST", "/admin/users", json=body), 401)

    created = user_service.call("POST", "/admin/users", token=superadmin_token, json=body)
    assert created.status_code == 201 and created.json()["role"] == "superadmin"
    assert bad_fields(user_service.call("POST", "/admin/users", token=superadmin_token, json={
        **body, "email": unique_email(), "role": "king"})) == {"role"}


def test_internal_lookup_takes_service_tokens_only(
    stack: ThrowawayStack, user_service: ShopClient
) -> None:
    user, user_token = new_enduser(user_service)
    keys_dir = stack.workdir / "keys"
    order_key = load_private_key(keys_dir, service_key_name("order"))
    good = issue_service_token(order_key, caller="order", audience="user", ttl_seconds=30)

    found = user_service.call("GET", f"/internal/users/{user['id']}", token=good)
    assert found.status_code == 200 and found.json()["email"] == user["email"]
    problem(user_service.call("GET", "/internal/users/not-a-uuid", token=good), 404)

    problem(user_service.call("GET", f"/internal/users/{user['id']}", token=user_token), 401)
    wrong_audience = issue_service_token(order_key, caller="order", audience="product",
                                         ttl_seconds=30)
    problem(user_service.call("GET", f"/internal/users/{user['id']}", token=wrong_audience), 401)
    impostor = issue_service_token(order_key, caller="product", audience="user", ttl_seconds=30)
    problem(user_service.call("GET", f"/internal/users/{user['id']}", token=impostor), 401)
    long_lived = issue_service_token(order_key, caller="order", audience="user", ttl_seconds=60,
                                     now=int(time.time()) - 10)
    long_lived_claims = jwt.decode(long_lived, options={"verify_signature": False})
    assert long_lived_claims["exp"] - long_lived_claims["iat"] == 60


def test_jwks_verifies_issued_tokens(user_service: ShopClient) -> None:
    user, token = new_enduser(user_service)
    keys = user_service.call("GET", "/.well-known/jwks.json").json()["keys"]
    public = jwt.PyJWK(keys[0]).key
    claims = jwt.decode(token, public, algorithms=["EdDSA"], audience="shop",
                        issuer="shop-user-service")
    assert claims["sub"] == user["id"] and claims["role"] == "enduser"
    assert claims["exp"] - claims["iat"] == 900


def test_health_reports_each_dependency(user_service: ShopClient) -> None:
    body = user_service.call("GET", "/health").json()
    assert body["status"] == "ok"
    assert {name: c["status"] for name, c in body["checks"].items()} == {
        "database": "up", "cache": "up", "broker": "up"}


def test_an_undeclared_method_is_the_gateways_no_route_problem(user_service: ShopClient) -> None:
    # API Gateway answers a method the resource does not declare as it answers an unknown
    # route (403 Missing Authentication Token); the shop's gateway responses make it a problem.
    response = user_service.call("DELETE", "/users/me")
    body = problem(response, 403)
    assert body["detail"] == "no route for DELETE /users/me"


def test_an_unknown_route_is_a_problem_that_echoes_no_token(user_service: ShopClient) -> None:
    response = user_service.call("GET", "/no/such/route", token="secret-token-value")
    body = problem(response, 403)  # API Gateway's status for a route it does not have
    assert "secret-token-value" not in response.text
    assert body["detail"] == "no route for GET /no/such/route"


@pytest.mark.parametrize(("path", "status"), [
    ("/users/" + "x" * 70_000, 414),  # a request-target past the server's header limit
])
def test_the_http_servers_own_refusals_are_problems_that_echo_nothing(
    user_service: ShopClient, path: str, status: int,
) -> None:
    response = user_service.call("GET", f"{path}?token=secret-token-value")
    body = problem(response, status)
    assert "secret-token-value" not in response.text and "xxxx" not in body["detail"]


def test_a_malformed_request_line_is_a_problem_that_echoes_nothing(
    user_service: ShopClient,
) -> None:
    host, port = user_service.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /users/me?token=secret-token-value HTTP/1.1 extra\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    # A line it cannot parse gets an HTTP/0.9-style answer (no status line, no headers),
    # as from the standard library: the body alone, now a problem.
    body = answer.partition(b"\r\n\r\n")[2] if answer.startswith(b"HTTP/") else answer
    assert json.loads(body)["status"] == 400 and b"secret-token-value" not in answer


def test_a_request_id_is_kept_only_when_short_and_plain(user_service: ShopClient) -> None:
    kept = user_service.call("GET", "/health", headers={"X-Request-Id": "abc-123.x"})
    assert kept.headers["X-Request-Id"] == "abc-123.x"
    for offered in ("x" * 129, "bad id with spaces", "<script>"):
        replaced = user_service.call("GET", "/health", headers={"X-Request-Id": offered})
        assert replaced.headers["X-Request-Id"] != offered
        assert len(replaced.headers["X-Request-Id"]) == 32


def test_create_superadmin_is_idempotent_and_tells_a_stale_password(
    stack: ThrowawayStack, user_service: ShopClient
) -> None:
    email = unique_email("root")

    def create(address: str, password: str = DEFAULT_PASSWORD) -> SuperadminAnswer:
        return SuperadminAnswer.from_json(stack.run_task("user", "create_superadmin",
                                                         email=address, password=password))

    created = create(email)
    assert (created.outcome, created.says) == (SuperadminOutcome.CREATED,
                                               f"superadmin {email} created")
    assert create(email).outcome is SuperadminOutcome.EXISTS
    stale = create(email, "another-password-7")
    assert stale.outcome is SuperadminOutcome.OTHER_PASSWORD
    assert "not the one in SHOP_SUPERADMIN_PASSWORD" in stale.says
    assert login(user_service, email)  # the original password still works
    assert count(stack, "SELECT count(*) FROM users WHERE email = :e AND role = 'superadmin'",
                 e=email) == 1
    # An enduser's address is said to be one, and stays an enduser (no promotion).
    enduser = unique_email("ann")
    register(user_service, email=enduser)
    answer = create(enduser.upper())
    assert answer == SuperadminAnswer(
        SuperadminOutcome.OTHER_ROLE, enduser,
        f"account {enduser} exists as an enduser and was not made a superadmin")
    assert count(stack, "SELECT count(*) FROM users WHERE email = :e AND role = 'enduser'",
                 e=enduser) == 1
