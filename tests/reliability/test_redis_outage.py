"""Redis stopped: the catalog is served from the database, logins and orders go on.

Login throttling while Redis is down is tested as the README's Security section
documents it: the failure delays fail open — refusing every login because the cache
is down would be a worse outage than a slower brute force — so wrong passwords past
the free failures get 401, never 429, and the right one signs in.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from shop_common.config import Settings
from tests.reliability.conftest import Shop, assert_books_balance
from tests.support.client import DEFAULT_PASSWORD, register
from tests.support.polling import wait_until
from tests.support.private_servers import PrivateRedis

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

FREE_FAILURES = Settings.model_fields["login_free_failures"].default


@pytest.fixture
def redis_down(shop: Shop, private_redis: PrivateRedis) -> Iterator[None]:
    private_redis.stop()
    try:
        yield
    finally:
        private_redis.start()
        # A Redis without an ACL file forgets its users: `shop setup` makes them again.
        shop.stack.ensure_cache_users()


def catalog(shop: Shop, token: str) -> tuple[int, str, list[str]]:
    response = shop.products.call("GET", "/products?limit=100", token=token)
    ids = [item["id"] for item in response.json().get("items", [])] \
        if response.status_code == 200 else []
    return response.status_code, response.headers.get("X-Cache", ""), ids


def test_the_catalog_comes_from_the_database_while_redis_is_down(
        shop: Shop, private_redis: PrivateRedis, redis_down: None) -> None:
    _, token = shop.buyers[0]
    product_id = shop.new_product(stock=5)  # its write could not invalidate the cache
    for _ in range(3):
        status, source, ids = catalog(shop, token)
        assert (status, source) == (200, "MISS")
        assert product_id in ids
    one = shop.products.call("GET", f"/products/{product_id}", token=token)
    assert one.status_code == 200 and one.json()["id"] == product_id
    placed = shop.order(product_id, token)
    assert placed.status_code == 201, placed.text
    assert_books_balance(shop.stack, product_id, 5)


def test_login_throttling_fails_open_while_redis_is_down(
        shop: Shop, redis_down: None) -> None:
    email = f"outage-{uuid.uuid4().hex[:8]}@example.com"
    register(shop.users, email)
    wrong = {"email": email, "password": "not-the-password-1"}
    statuses = [shop.users.call("POST", "/users/login", json=wrong).status_code
                for _ in range(FREE_FAILURES + 2)]
    assert statuses == [401] * (FREE_FAILURES + 2)
    right = shop.users.call("POST", "/users/login",
                            json={"email": email, "password": DEFAULT_PASSWORD})
    assert right.status_code == 200, right.text


def test_the_cache_works_again_once_redis_is_back(shop: Shop) -> None:
    _, token = shop.buyers[1]
    shop.new_product(stock=1)  # a new catalog version, so the next read is a miss

    def served_from_cache() -> bool:
        catalog(shop, token)
        return catalog(shop, token)[1] == "HIT"

    wait_until(served_from_cache, 30, interval=0.5, what="the catalog cached again")
