"""Fixtures for the product and order services, on the session's throw-away stack."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from shop_common.keys import USER_TOKENS_KEY, load_private_key
from shop_common.tokens import issue_user_token
from shop_local.paths import ROOT
from tests.support.client import ShopClient
from tests.support.stack import ServiceProcess, ThrowawayStack, free_port

# Extra processes run the sweeper every second; it only settles reservations that are
# due, so it never races a request that is still placing its order.
SWEEP_EVERY = "1"


def running(stack: ThrowawayStack, service: str) -> ServiceProcess | None:
    """The live session process of a service (the latest, after a restart), if any."""
    live = [p for p in stack.processes if p.service == service and p.port == stack.ports[service]
            and p.process.poll() is None]
    return live[-1] if live else None


def started(stack: ThrowawayStack, service: str) -> ServiceProcess:
    """The session's process of a service, started unless another test already did.

    Starting a second one on the same port would only appear to work (the first one
    answers the health check), so a live one is reused as it is.
    """
    return running(stack, service) or stack.start(service)


@pytest.fixture(scope="session")
def order_service(stack: ThrowawayStack, user_service: ShopClient) -> ShopClient:
    return ShopClient.to(started(stack, "order").url)


@pytest.fixture(scope="session")
def product_service(stack: ThrowawayStack, order_service: ShopClient) -> ShopClient:
    return ShopClient.to(started(stack, "product").url)


def spawn(stack: ThrowawayStack, service: str, **overrides: str) -> ServiceProcess:
    """An extra process of a service on a free port, for settings the session's lacks.

    It only has to answer HTTP: its /health may well be 503 (that can be the point).
    """
    port = free_port()
    log_path = stack.workdir / f"{service}-extra-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "shop_local.runtime.host", "--service", service,
         "--port", str(port)],
        env=stack.process_env(SHOP_LOCAL_SCHEDULE_SECONDS=SWEEP_EVERY, **overrides), cwd=ROOT,
        stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
    )
    handle = ServiceProcess(service, port, process, log_path)
    stack.processes.append(handle)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{service} exited:\n{log_path.read_text()[-3000:]}")
        try:
            requests.get(handle.url + "/health", timeout=2)
            return handle
        except requests.RequestException:
            time.sleep(0.2)
    handle.stop()
    raise RuntimeError(f"{service} did not answer:\n{log_path.read_text()[-3000:]}")


@pytest.fixture
def free_tcp_port() -> int:
    """A port nothing listens on (free a moment ago)."""
    return free_port()


@pytest.fixture
def extra_process(stack: ThrowawayStack) -> Iterator[Any]:
    """`extra_process(service, **env)` → ServiceProcess, stopped after the test."""
    started: list[ServiceProcess] = []

    def start(service: str, **overrides: str) -> ServiceProcess:
        started.append(spawn(stack, service, **overrides))
        return started[-1]

    yield start
    for handle in started:
        handle.stop()


def sql(stack: ThrowawayStack, service: str, statement: str, **params: Any) -> list[Any]:
    """Rows from a service's own database, as its owner sees them."""
    engine = create_engine(stack.env[f"SHOP_{service.upper()}_DATABASE_URL"])
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def scalar(stack: ThrowawayStack, service: str, statement: str, **params: Any) -> Any:
    return sql(stack, service, statement, **params)[0][0]


def user_token(stack: ThrowawayStack, user_id: str, role: str = "enduser") -> str:
    key = load_private_key(stack.workdir / "keys", USER_TOKENS_KEY)
    return issue_user_token(key, user_id=user_id, role=role, issuer="shop-user-service",
                            audience="shop", ttl_seconds=900)


def insert_buyers(stack: ThrowawayStack, count: int) -> list[dict[str, str]]:
    """`count` endusers ({id, email}) written straight into the user database.

    With a placeholder hash: registering hundreds of buyers through the API would
    spend most of the time budget on argon2, and what is under test is not sign-up.
    """
    rows = [{"id": str(uuid.uuid4()), "email": f"buyer-{uuid.uuid4().hex[:12]}@example.com"}
            for _ in range(count)]
    engine = create_engine(stack.env["SHOP_USER_DATABASE_URL"])
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO users (id, email, name, role, password_hash, created_at) "
                "VALUES (:id, :email, 'Buyer', 'enduser', 'not-a-hash', now())"
            ), rows)
    finally:
        engine.dispose()
    return rows


def make_buyers(stack: ThrowawayStack, count: int) -> list[tuple[str, str]]:
    """[(user_id, token)] for `count` endusers the user service knows."""
    return [(row["id"], user_token(stack, row["id"])) for row in insert_buyers(stack, count)]


@pytest.fixture(scope="session")
def seed_buyers(stack: ThrowawayStack, user_service: ShopClient) -> Any:
    """`seed_buyers(n)` → [(user_id, token)] for n endusers the user service knows."""

    def make(count: int) -> list[tuple[str, str]]:
        return make_buyers(stack, count)

    return make


@pytest.fixture
def new_product(product_service: ShopClient, superadmin_token: str) -> Any:
    """`new_product(stock=10, price="9.99")` → the created product."""

    def make(stock: int = 10, price: str = "9.99", name: str | None = None) -> dict[str, Any]:
        response = product_service.call("POST", "/products", token=superadmin_token, json={
            "name": name or f"Product {uuid.uuid4().hex[:8]}",
            "description": "made by a test", "price": price, "stock": stock,
        })
        assert response.status_code == 201, response.text
        return dict(response.json())

    return make


def problem(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    body = dict(response.json())
    assert body["status"] == status and body["title"] and body["type"] and body["detail"]
    return body


def money(value: str) -> Decimal:
    return Decimal(value)
