from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from tests.support.client import DEFAULT_PASSWORD, ShopClient
from tests.support.stack import ThrowawayStack
from tests.support.tokens import fresh_user_token


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayStack]:
    """Throw-away databases, roles, vhost and keys for the whole test session."""
    throwaway = ThrowawayStack(Path(tmp_path_factory.mktemp("stack")))
    throwaway.set_up()
    try:
        yield throwaway
    finally:
        throwaway.tear_down()


@pytest.fixture(scope="session")
def user_service(stack: ThrowawayStack) -> ShopClient:
    handle = stack.start("user")
    return ShopClient.to(handle.url)


@pytest.fixture(scope="session")
def superadmin_id(stack: ThrowawayStack, user_service: ShopClient) -> str:
    """The session's superadmin, created once and proven able to log in."""
    email = f"root-{stack.run_id}@example.com"
    stack.run_task("user", "create_superadmin", email=email, password=DEFAULT_PASSWORD)
    response = user_service.call("POST", "/users/login",
                                 json={"email": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    return str(claims["sub"])


@pytest.fixture
def superadmin_token(stack: ThrowawayStack, superadmin_id: str) -> str:
    """A fresh token per test, as the user service issues them: one minted for the whole
    session would expire (900 s) before a long suite reaches its last tests."""
    return fresh_user_token(stack, superadmin_id, role="superadmin")
