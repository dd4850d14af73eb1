"""Secrets stay secret: no password, token, password hash or private key in a response
body or a service log, whatever the request (README, "No secret in a log line").

Sign-up, logins that fail and one that works, the caller's own account, an order placed
across the product, order and user services (service tokens included), and requests
that fail validation all go through the throw-away services; then every response body
and everything the services logged meanwhile (the ServiceProcess log files) is searched.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.ordering.conftest import sql
from tests.security.conftest import Accounts, Minter, Services, create_product
from tests.support.client import unique_email
from tests.support.stack import ThrowawayStack

pytestmark = pytest.mark.integration

HASH_MARK = "$argon2"
KEY_MARK = "PRIVATE KEY"
JWT = re.compile(r"eyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]{10,}")


class LogWatch:
    """What the services' log files gained since it was made."""

    def __init__(self, stack: ThrowawayStack) -> None:
        processes = [p for p in stack.processes if p.service in ("user", "product", "order")]
        self.files = sorted({p.log_path for p in processes})
        self.live = sorted({p.log_path for p in processes if p.process.poll() is None})
        self.offsets = {path: path.stat().st_size for path in self.files}

    def new_text(self) -> str:
        # The access log line is written before the response: nothing is still on its way.
        time.sleep(0.3)
        return "\n".join(self._read(path)[self.offsets[path]:] for path in self.files)

    @staticmethod
    def _read(path: Path) -> str:
        return path.read_bytes().decode("utf-8", "replace")

    def whole(self) -> str:
        """Everything the running services logged, from their start."""
        return "\n".join(self._read(path) for path in self.live)


class Recorder:
    """Every response of the scenario, so that all their bodies can be searched."""

    def __init__(self) -> None:
        self.responses: list[tuple[str, requests.Response]] = []

    def __call__(self, label: str, response: requests.Response,
                 status: int | None = None) -> requests.Response:
        self.responses.append((label, response))
        if status is not None:
            assert response.status_code == status, f"{label}: {response.text}"
        return response


def where(haystack: str, needle: str) -> str:
    at = haystack.find(needle)
    return haystack[max(0, at - 200):at + 200] if at >= 0 else ""


def assert_absent(haystack: str, secrets: dict[str, str], place: str) -> None:
    for name, secret in secrets.items():
        assert secret not in haystack, f"{name} found in {place}: …{where(haystack, secret)}…"


@dataclass
class Scenario:
    record: Recorder
    secrets: dict[str, str]
    logs: LogWatch


@pytest.fixture(scope="module")
def scenario(stack: ThrowawayStack, services: Services, minter: Minter,
             accounts: Accounts) -> Scenario:
    users, products, orders = services.user, services.product, services.order
    logs = LogWatch(stack)
    record = Recorder()
    password = f"Leak-probe-{uuid.uuid4().hex}"
    wrong_password = f"Not-it-{uuid.uuid4().hex}"
    admin_password = f"Admin-made-{uuid.uuid4().hex}"
    email = unique_email("leak")

    user = record("register", users.call("POST", "/users/register", json={
        "email": email, "password": password, "name": "Leak Probe"}), 201).json()
    record("register again", users.call("POST", "/users/register", json={
        "email": email, "password": password, "name": "Leak Probe"}), 409)
    record("register invalid", users.call("POST", "/users/register", json={
        "email": "not-an-email", "password": password + "x" * 200, "name": "",
        "password_hash": password}), 422)
    record("wrong password", users.call("POST", "/users/login", json={
        "email": email, "password": wrong_password}), 401)
    record("unknown email", users.call("POST", "/users/login", json={
        "email": unique_email("nobody"), "password": password}), 401)
    record("login invalid", users.call("POST", "/users/login", json={
        "email": email, "password": password, "remember_me": password}), 422)
    login = record("login", users.call("POST", "/users/login", json={
        "email": email, "password": password}), 200)
    token = login.json()["access_token"]
    record("me", users.call("GET", "/users/me", token=token), 200)
    record("jwks", users.call("GET", "/.well-known/jwks.json"), 200)

    superadmin = minter.user(accounts.superadmin_id, "superadmin")
    record("admin creates", users.call("POST", "/admin/users", token=superadmin, json={
        "email": unique_email("leak-admin"), "password": admin_password, "name": "Made",
        "role": "enduser"}), 201)
    service_token = minter.service("order", "user")
    record("internal lookup", users.call("GET", f"/internal/users/{user['id']}",
                                         token=service_token), 200)

    product = create_product(services, minter, accounts)
    placed = record("order", products.call(
        "POST", f"/products/{product['id']}/orders", token=token, json={"quantity": 2},
        headers={"Idempotency-Key": uuid.uuid4().hex}), 201).json()
    record("orders", orders.call("GET", "/orders", token=token), 200)
    record("order", orders.call("GET", f"/orders/{placed['id']}", token=token), 200)
    record("token as key", products.call(
        "POST", f"/products/{product['id']}/orders", token=token, json={"quantity": 1},
        headers={"Idempotency-Key": token}))
    record("health", users.call("GET", "/health"), 200)

    return Scenario(record, {
        "the password": password, "the wrong password": wrong_password,
        "the admin-set password": admin_password, "the access token": token,
        "the superadmin's token": superadmin, "the service token": service_token,
    }, logs)


def keys_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(keys_of(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_of(v) for v in value))
    return set()


def test_no_response_body_or_header_holds_a_secret(scenario: Scenario) -> None:
    for label, response in scenario.record.responses:
        text = response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        shown = dict(scenario.secrets)
        if label == "login":
            del shown["the access token"]  # the one place it belongs
        assert_absent(text, {**shown, "a password hash": HASH_MARK, "a private key": KEY_MARK},
                      f"the {label!r} response")
        names = keys_of(response.json()) if response.text else set()
        assert not {n for n in names if "password" in n.lower() or "hash" in n.lower()}, label


def test_the_jwks_publishes_no_private_key_material(services: Services) -> None:
    for key in services.user.call("GET", "/.well-known/jwks.json").json()["keys"]:
        assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & set(key), key


def test_the_service_logs_hold_no_secret(scenario: Scenario) -> None:
    secrets, log_watch = scenario.secrets, scenario.logs
    logged = log_watch.new_text()
    assert "/users/login" in logged and "/products/{product_id}/orders" in logged  # was watched
    assert_absent(logged, {**secrets, "a password hash": HASH_MARK}, "the service logs")
    assert not JWT.search(logged), f"a JWT in the service logs: {JWT.search(logged)}"
    assert KEY_MARK not in log_watch.whole(), "a private key in the service logs"


@pytest.fixture
def failing_signup(stack: ThrowawayStack) -> Iterator[str]:
    """A name whose INSERT the user database refuses with an error nobody expects.

    A trigger in the throw-away database stands in for any unexpected database error
    on the sign-up path (a NUL character in the name was one, now refused up front).
    """
    name = f"Db Failure {uuid.uuid4().hex[:8]}"
    suffix = uuid.uuid4().hex[:8]
    sql(stack, "user", f"""
        CREATE FUNCTION leak_probe_{suffix}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.name = '{name}' THEN RAISE EXCEPTION 'leak probe: row refused'; END IF;
          RETURN NEW;
        END $$""")
    sql(stack, "user", f"CREATE TRIGGER leak_probe_{suffix} BEFORE INSERT ON users "
                       f"FOR EACH ROW EXECUTE FUNCTION leak_probe_{suffix}()")
    try:
        yield name
    finally:
        sql(stack, "user", f"DROP TRIGGER IF EXISTS leak_probe_{suffix} ON users")
        sql(stack, "user", f"DROP FUNCTION IF EXISTS leak_probe_{suffix}()")


def test_a_failed_signup_logs_no_password_hash(
    stack: ThrowawayStack, services: Services, failing_signup: str,
) -> None:
    log_watch = LogWatch(stack)
    password = f"Leak-probe-{uuid.uuid4().hex}"
    response = services.user.call("POST", "/users/register", json={
        "email": unique_email("leak-fail"), "password": password, "name": failing_signup})
    assert response.status_code == 500  # the stand-in failure did happen
    assert HASH_MARK not in response.text and password not in response.text
    logged = log_watch.new_text()
    assert password not in logged
    assert HASH_MARK not in logged, f"a password hash in the log: …{where(logged, HASH_MARK)}…"
