"""Catalog cache: a hit vs a miss (latency), and a hit vs its floor (throughput).

A miss is made the way the shop makes one: a product write (PUT) invalidates the
catalog, then the next `GET /products` misses and the one after hits; both GETs
are timed, one after the other, so hits and misses interleave. The floor is one
Redis GET of the same page behind a raw app on the server the runtime uses.
"""

from __future__ import annotations

import time
import uuid

import redis
import requests

from bench import loadgen, peers
from bench.context import Context
from bench.loadgen import percentile
from bench.report import Row, interleaved, load_row, median
from bench.servers import running

SECTION = "cache"
CONNECTIONS = 16
PAIRS_PER_ROUND = 15
PRODUCT_BODY = {"name": "Bench cached item", "description": "benchmark", "price": "9.99",
                "stock": 1000}


def timed_get(session: requests.Session, url: str, bearer: str) -> tuple[float, str]:
    started = time.perf_counter()
    response = session.get(url, headers={"Authorization": bearer}, timeout=10)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, response.headers.get("X-Cache", "")


def hit_and_miss(ctx: Context) -> list[Row]:
    stack = ctx.stack
    bearer = f"Bearer {stack.reader().token}"
    admin = f"Bearer {stack.admin_token()}"
    products = stack.url("product")
    target = f"{products}/products/{stack.product_ids[-1]}"
    hits: list[float] = []
    misses: list[float] = []
    wrong: list[str] = []
    with requests.Session() as session:
        for _ in range(ctx.rounds * PAIRS_PER_ROUND):
            session.put(target, json=PRODUCT_BODY, headers={"Authorization": admin},
                        timeout=10).raise_for_status()
            miss, source = timed_get(session, products + "/products", bearer)
            if source != "MISS":
                wrong.append(f"after a write: {source}")
            hit, source = timed_get(session, products + "/products", bearer)
            if source != "HIT":
                wrong.append(f"second read: {source}")
            misses.append(miss)
            hits.append(hit)
    if wrong:
        raise RuntimeError(f"the cache did not miss/hit as expected: {wrong[:3]}")
    hit_row = Row(SECTION, "GET /products hit, sequential", 1000 * median(hits), "ms",
                  p50_ms=1000 * percentile(sorted(hits), 0.5),
                  p99_ms=1000 * percentile(sorted(hits), 0.99))
    miss_row = Row(SECTION, "GET /products miss (after a write), sequential",
                   1000 * median(misses), "ms", p50_ms=1000 * percentile(sorted(misses), 0.5),
                   p99_ms=1000 * percentile(sorted(misses), 0.99))
    return [miss_row, hit_row.against(miss_row)]


def hit_vs_floor(ctx: Context) -> list[Row]:
    stack = ctx.stack
    bearer = f"Bearer {stack.reader().token}"
    products = stack.url("product") + "/products"
    page = requests.get(products, headers={"Authorization": bearer}, timeout=10).content
    env = stack.stack.env
    redis_url = env["SHOP_PRODUCT_REDIS_URL"]
    key = f"{env['SHOP_PRODUCT_REDIS_PREFIX']}bench-floor:{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(redis_url)
    client.set(key, page, ex=3600)
    server = peers.runtime_server()
    floor = peers.floor(server, "redis-get", {"BENCH_REDIS_URL": redis_url,
                                              "BENCH_REDIS_KEY": key})
    try:
        with running([floor], ctx.workdir) as servers:
            runs = interleaved({
                "hit": lambda: loadgen.load(products, CONNECTIONS, ctx.seconds, bearer),
                "floor": lambda: loadgen.load(servers[floor.name].url, CONNECTIONS,
                                              ctx.seconds),
            }, ctx.rounds)
    finally:
        client.delete(key)
        client.close()
    hit = load_row(SECTION, f"c{CONNECTIONS} GET /products hit", runs["hit"])
    floor_row = load_row(SECTION, f"c{CONNECTIONS} floor: one Redis GET on {server}",
                         runs["floor"])
    return [floor_row, hit.against(floor_row)]


def run(ctx: Context) -> list[Row]:
    return hit_and_miss(ctx) + hit_vs_floor(ctx)
