"""Fixtures for the API contract tests, on the session's throw-away stack.

The three HTTP services are the session's own (the user service from tests/conftest.py,
product and order from the ordering package's conftest, reused as they are). Tokens
are minted when asked for with the stack's real keys, so none expires mid-session.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.integration.ordering.conftest import (
    new_product,
    order_service,
    product_service,
    user_token,
)
from tests.security.conftest import Services
from tests.support.client import ShopClient, new_enduser
from tests.support.stack import ThrowawayStack
from tests.support.tokens import fresh_user_token

__all__ = ["new_product", "order_service", "product_service"]


@dataclass(frozen=True)
class Caller:
    """A real account of the user service; `token()` mints a fresh user token for it."""

    stack: ThrowawayStack
    user_id: str
    role: str
    email: str

    def token(self) -> str:
        return user_token(self.stack, self.user_id, self.role)


@pytest.fixture(scope="session")
def services(user_service: ShopClient, product_service: ShopClient,
             order_service: ShopClient) -> Services:
    return Services(user_service, product_service, order_service)


@pytest.fixture(scope="session")
def enduser(stack: ThrowawayStack, user_service: ShopClient) -> Caller:
    user, _ = new_enduser(user_service)
    return Caller(stack, user["id"], "enduser", user["email"])


@pytest.fixture(scope="session")
def superadmin(stack: ThrowawayStack, user_service: ShopClient, superadmin_id: str) -> Caller:
    me = user_service.call("GET", "/users/me",
                           token=fresh_user_token(stack, superadmin_id, role="superadmin"))
    assert me.status_code == 200, me.text
    return Caller(stack, me.json()["id"], "superadmin", me.json()["email"])
