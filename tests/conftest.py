from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.client import DEFAULT_PASSWORD, ShopClient
from tests.support.stack import ThrowawayStack


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
def superadmin_token(stack: ThrowawayStack, user_service: ShopClient) -> str:
    email = f"root-{stack.run_id}@example.com"
    stack.run_task("user", "create_superadmin", email=email, password=DEFAULT_PASSWORD)
    response = user_service.call("POST", "/users/login",
                                 json={"email": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])
