"""The shop under test: the tests' throw-away stack (own databases, vhost, keys, Redis
prefix; real service processes on free ports), set up once per `make bench` run and
shared by the sections that need it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.integration.events.ordering import Buyer, OrderingStack
from tests.support.client import ShopClient
from tests.support.stack import ServiceProcess, ThrowawayStack

# PostgreSQL is shared (100 connections for everyone on the machine): each service
# process keeps at most 2 x this many (pool + overflow), a quarter of the default.
POOL_SIZE = 4
CATALOG_SIZE = 20  # products in the catalog the routes read (one default page)
ORDERS_PER_BUYER = 5  # what GET /orders lists


@dataclass
class BenchStack:
    workdir: Path
    stack: ThrowawayStack = field(init=False)
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    _shop: OrderingStack | None = None
    _reader: Buyer | None = None
    product_ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stack = ThrowawayStack(self.workdir)

    def set_up(self) -> None:
        self.stack.set_up()
        self.stack.env["SHOP_DB_POOL_SIZE"] = str(POOL_SIZE)

    def tear_down(self) -> None:
        self.stack.tear_down()

    def service(self, name: str, **overrides: str) -> ServiceProcess:
        """The service on its own port, started on first use."""
        if name not in self.services:
            self.services[name] = self.stack.start(name, **overrides)
        return self.services[name]

    def url(self, name: str) -> str:
        return self.service(name).url

    @property
    def shop(self) -> OrderingStack:
        if self._shop is None:
            self.service("user")
            self.service("order")
            self._shop = OrderingStack(self.stack, ShopClient.to(self.url("product")))
        return self._shop

    def admin_token(self) -> str:
        return self.shop.token(str(uuid.uuid4()), role="superadmin")

    def new_product(self, stock: int, products_url: str | None = None) -> str:
        client = ShopClient.to(products_url) if products_url else self.shop.products
        response = client.call("POST", "/products", token=self.admin_token(), json={
            "name": f"Bench item {uuid.uuid4().hex[:8]}", "description": "benchmark",
            "price": "9.99", "stock": stock,
        })
        if response.status_code != 201:
            raise RuntimeError(f"POST /products answered {response.status_code}: "
                               f"{response.text}")
        return str(response.json()["id"])

    def reader(self) -> Buyer:
        """An enduser with a catalog to read and orders to list, made once."""
        if self._reader is None:
            self._reader = self.shop.new_buyers(1)[0]
            self.product_ids = [self.new_product(1000) for _ in range(CATALOG_SIZE)]
            for _ in range(ORDERS_PER_BUYER):
                self.place_order(self.url("product"), self.product_ids[0], self._reader)
        return self._reader

    def place_order(self, products_url: str, product_id: str, buyer: Buyer) -> dict[str, Any]:
        response = ShopClient.to(products_url).call(
            "POST", f"/products/{product_id}/orders", token=buyer.token,
            json={"quantity": 1}, headers={"Idempotency-Key": str(uuid.uuid4())})
        if response.status_code != 201:
            raise RuntimeError(f"placing an order answered {response.status_code}: "
                               f"{response.text}")
        return dict(response.json())
