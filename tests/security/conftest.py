"""Fixtures for the security tests, on the session's throw-away stack.

The services are the session's own (`user_service` from tests/conftest.py, the product
and order services from the ordering package's conftest, reused as they are). Tokens
are minted fresh at each use with the stack's real keys: a session may be long enough
for a token taken at its start (such as `superadmin_token`) to have expired.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from shop_common.keys import USER_TOKENS_KEY, load_private_key, service_key_name
from shop_common.tokens import issue_service_token, issue_user_token
from tests.integration.ordering.conftest import order_service, product_service
from tests.support.client import ShopClient, register
from tests.support.functions import function_app
from tests.support.stack import ThrowawayStack

__all__ = ["order_service", "product_service"]

PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Services:
    user: ShopClient
    product: ShopClient
    order: ShopClient

    def client(self, service: str) -> ShopClient:
        return {"user": self.user, "product": self.product, "order": self.order}[service]


class Minter:
    """Tokens signed with the throw-away stack's real keys, minted when asked for."""

    def __init__(self, stack: ThrowawayStack) -> None:
        self.stack = stack

    def __repr__(self) -> str:  # short in hypothesis' reports (a dataclass prints every field)
        return "Minter(...)"

    def user(self, user_id: str, role: str = "enduser", *, ttl: int = 900,
             now: int | None = None) -> str:
        key = load_private_key(self.stack.workdir / "keys", USER_TOKENS_KEY)
        return issue_user_token(key, user_id=user_id, role=role, issuer="shop-user-service",
                                audience="shop", ttl_seconds=ttl, now=now)

    def expired_user(self, user_id: str, role: str = "enduser") -> str:
        return self.user(user_id, role, ttl=60, now=int(time.time()) - 3600)

    def service(self, caller: str, audience: str, ttl: int = 30,
                now: int | None = None) -> str:
        key = load_private_key(self.stack.workdir / "keys", service_key_name(caller))
        return issue_service_token(key, caller=caller, audience=audience, ttl_seconds=ttl,
                                   now=now)


@dataclass(frozen=True)
class Accounts:
    """Two endusers and the session's superadmin, by id (tokens come from the Minter)."""

    alice: dict[str, Any]
    bob: dict[str, Any]
    superadmin_id: str


@pytest.fixture(scope="session")
def services(user_service: ShopClient, product_service: ShopClient,
             order_service: ShopClient) -> Services:
    return Services(user_service, product_service, order_service)


@pytest.fixture(scope="session")
def minter(stack: ThrowawayStack) -> Minter:
    return Minter(stack)


@pytest.fixture(scope="session")
def accounts(user_service: ShopClient, superadmin_id: str) -> Accounts:
    return Accounts(register(user_service, name="Alice"), register(user_service, name="Bob"),
                    superadmin_id)


def create_product(services: Services, minter: Minter, accounts: Accounts,
                   stock: int = 1000, price: str = "4.20") -> dict[str, Any]:
    response = services.product.call(
        "POST", "/products", token=minter.user(accounts.superadmin_id, "superadmin"),
        json={"name": f"Security {uuid.uuid4().hex[:8]}", "description": "for security tests",
              "price": price, "stock": stock},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def place_order(services: Services, token: str, product_id: str,
                quantity: int = 1) -> requests.Response:
    return services.product.call("POST", f"/products/{product_id}/orders", token=token,
                                 json={"quantity": quantity},
                                 headers={"Idempotency-Key": uuid.uuid4().hex})


def assert_well_formed(response: requests.Response) -> None:
    """No 5xx but a proper 503; every error a problem whose status is the HTTP status."""
    status = response.status_code
    where = f"{response.request.method} {(response.request.url or '')[:300]} → {status}: " \
            f"{response.text[:500]}"
    assert status < 500 or status == 503, where
    if status < 400:
        return
    assert response.headers.get("Content-Type") == PROBLEM, where
    body = response.json()
    assert isinstance(body, dict), where
    for member in ("type", "title", "status", "detail"):
        assert body.get(member), f"no {member!r}: {where}"
    assert body["status"] == status, where
    if status == 422:
        errors = body.get("errors")
        assert isinstance(errors, list) and errors, where
        assert all(isinstance(e, dict) and e.get("field") for e in errors), where


def declared_routes(service: str) -> set[tuple[str, str, str]]:
    """(service, method, path) of every route in the service's Chalice route table."""
    return {(service, method, re.sub(r"\{\w+\}", "{id}", path))
            for path, methods in function_app(service).routes.items() for method in methods}
