"""`seed_demo_products` (run by `shop setup` and `shop up`) against the real product database."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.ordering.conftest import problem, sql
from tests.support.client import ShopClient
from tests.support.functions import function_module
from tests.support.stack import ThrowawayStack

pytestmark = pytest.mark.integration

tasks = function_module("product", "tasks")
DEMO_IDS = [str(uuid.uuid5(tasks.DEMO_NAMESPACE, name)) for name, *_ in tasks.DEMO_PRODUCTS]


def listed_ids(product_service: ShopClient, token: str) -> set[str]:
    """Every product id the listing shows, page after page."""
    seen: set[str] = set()
    cursor = None
    for _ in range(1000):
        query = "/products?limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = product_service.call("GET", query, token=token)
        assert page.status_code == 200, page.text
        seen |= {item["id"] for item in page.json()["items"]}
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the listing never ended")


def test_a_demo_product_a_superadmin_deleted_stays_deleted_and_the_answer_says_so(
    stack: ThrowawayStack, product_service: ShopClient, superadmin_token: str,
) -> None:
    # From no demo product at all, whatever ran before in this session.
    sql(stack, "product", "DELETE FROM products WHERE id = ANY(CAST(:ids AS uuid[]))",
        ids=DEMO_IDS)
    assert stack.run_task("product", "seed_demo_products") == (
        "demo products: 5 created, 0 already there")
    assert set(DEMO_IDS) <= listed_ids(product_service, superadmin_token)
    assert stack.run_task("product", "seed_demo_products") == (
        "demo products: 0 created, 5 already there")

    gone = DEMO_IDS[2]
    deleted = product_service.call("DELETE", f"/products/{gone}", token=superadmin_token)
    assert deleted.status_code == 204, deleted.text

    # Not brought back, and not counted as "there" either: each count is what the listing shows.
    for _ in range(2):  # the same answer on every later `shop up`
        assert stack.run_task("product", "seed_demo_products") == (
            "demo products: 0 created, 4 already there, "
            "1 deleted by a superadmin and left deleted")
        listed = listed_ids(product_service, superadmin_token)
        assert set(DEMO_IDS) - listed == {gone}
        problem(product_service.call("GET", f"/products/{gone}", token=superadmin_token), 404)
