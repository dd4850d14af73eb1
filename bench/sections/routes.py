"""Real routes, authenticated, at 16 connections, each as a share of the trivial route.

The trivial route is `GET /ping` of an app with no database or middleware on the
same runtime, so a share says what the route's own work costs. `GET /products` is
a cache hit (filled before the load starts).
"""

from __future__ import annotations

import requests

from bench import loadgen, peers
from bench.context import Context
from bench.report import Row, interleaved, load_row
from bench.servers import running

SECTION = "routes"
CONNECTIONS = 16
TRIVIAL = "GET /ping (trivial)"


def route_urls(ctx: Context) -> dict[str, tuple[str, str | None]]:
    """Each measured route: its URL and the Authorization header it needs."""
    stack = ctx.stack
    reader = stack.reader()
    bearer = f"Bearer {reader.token}"
    products, users, orders = stack.url("product"), stack.url("user"), stack.url("order")
    # Fill the cache: the load measures hits.
    requests.get(products + "/products", headers={"Authorization": bearer}, timeout=10)
    return {
        "GET /products (cache hit)": (products + "/products", bearer),
        "GET /products/{id}": (f"{products}/products/{stack.product_ids[0]}", bearer),
        "GET /users/me": (users + "/users/me", bearer),
        "GET /orders": (orders + "/orders", bearer),
        "GET /health (product)": (products + "/health", None),
    }


def run(ctx: Context) -> list[Row]:
    urls = route_urls(ctx)
    with running([peers.shop_runtime()], ctx.workdir) as servers:
        urls = {TRIVIAL: (servers["shop runtime"].url, None), **urls}
        runs = interleaved({
            name: (lambda url=url, auth=auth: loadgen.load(url, CONNECTIONS, ctx.seconds, auth))
            for name, (url, auth) in urls.items()
        }, ctx.rounds)
    rows = {name: load_row(SECTION, f"c{CONNECTIONS} {name}", each) for name, each in runs.items()}
    trivial = rows[TRIVIAL]
    for name, row in rows.items():
        if name != TRIVIAL:
            row.against(trivial)
    return list(rows.values())
