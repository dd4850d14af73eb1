"""Placing real orders on the events stack: product + order services, buyers, products.

Used by the order → invoice tests. They run once the order service publishes its
outbox through shop_common.outbox_relay; until then they skip and say so.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from shop_common.keys import USER_TOKENS_KEY, load_private_key
from shop_common.tokens import issue_user_token
from shop_local.paths import ROOT
from tests.integration.ordering.conftest import insert_buyers
from tests.support.client import ShopClient
from tests.support.stack import ThrowawayStack

ORDER_APP = ROOT / "functions" / "order" / "app.py"
PRODUCT_APP = ROOT / "functions" / "product" / "app.py"


def order_publishing_missing() -> str | None:
    """Why orders cannot produce invoices yet, or None when they can."""
    if not ORDER_APP.is_file() or not PRODUCT_APP.is_file():
        return "the product and order services do not exist yet"
    source = ORDER_APP.read_text()
    logic = "".join(p.read_text() for p in (ORDER_APP.parent / "chalicelib").glob("*.py"))
    publishes = any(way in source + logic
                    for way in ("publish_after_commit", "transaction_publishing"))
    if not publishes or "relay_unpublished" not in source:
        return ("functions/order/app.py does not publish its outbox yet: call "
                "shop_common.outbox_relay.publish_after_commit after the order commits and "
                "add an @app.schedule relay calling relay_unpublished(runtime(), OutboxEvent)")
    return None


@dataclass(frozen=True)
class Buyer:
    user_id: str
    email: str
    token: str


@dataclass
class OrderingStack:
    stack: ThrowawayStack
    products: ShopClient

    def token(self, user_id: str, role: str = "enduser") -> str:
        key = load_private_key(self.stack.workdir / "keys", USER_TOKENS_KEY)
        return issue_user_token(key, user_id=user_id, role=role, issuer="shop-user-service",
                                audience="shop", ttl_seconds=900)

    def new_buyers(self, count: int) -> list[Buyer]:
        """Endusers written straight into the user database (sign-up is not tested here)."""
        return [Buyer(r["id"], r["email"], self.token(r["id"]))
                for r in insert_buyers(self.stack, count)]

    def new_buyer(self) -> Buyer:
        return self.new_buyers(1)[0]

    def new_product(self, price: str = "9.99", stock: int = 10) -> dict[str, Any]:
        admin = self.token(str(uuid.uuid4()), role="superadmin")
        response = self.products.call("POST", "/products", token=admin, json={
            "name": f"Gadget-{uuid.uuid4().hex[:8]}", "description": "made by a test",
            "price": price, "stock": stock,
        })
        assert response.status_code == 201, response.text
        return dict(response.json())

    def place_order(self, buyer: Buyer, product_id: str, quantity: int = 1) -> dict[str, Any]:
        response = self.products.call(
            "POST", f"/products/{product_id}/orders", token=buyer.token,
            json={"quantity": quantity}, headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())
