"""pg8000 vs psycopg 3 on the product service's database paths.

Two product services on the same database, differing only in the driver their
engine URL names (`postgresql+pg8000://` vs `postgresql+psycopg://`): a product read
(`GET /products/{id}`, never cached) at 16 connections, and placing orders (saga,
fast order service) with 8 buyers. psycopg comes with the bench extra only.
"""

from __future__ import annotations

from bench import loadgen
from bench.context import Context
from bench.report import Row, interleaved, load_row, median
from bench.sections.ordering import AMPLE_STOCK, Cell, place_orders
from tests.support.stack import free_port

SECTION = "drivers"
CONNECTIONS = 16
BUYERS = 8
PG8000, PSYCOPG = "pg8000", "psycopg"


def run(ctx: Context) -> list[Row]:
    stack = ctx.stack
    url = stack.stack.env["SHOP_PRODUCT_DATABASE_URL"]
    psycopg_url = url.replace("postgresql+pg8000://", "postgresql+psycopg://", 1)
    on_psycopg = stack.stack.start("product", port=free_port(),
                                   SHOP_PRODUCT_DATABASE_URL=psycopg_url)
    try:
        return measure(ctx, {PG8000: stack.url("product"), PSYCOPG: on_psycopg.url})
    finally:
        on_psycopg.stop()  # its database connections go back to the shared server


def measure(ctx: Context, services: dict[str, str]) -> list[Row]:
    stack = ctx.stack
    reader = stack.reader()
    bearer = f"Bearer {reader.token}"
    product_id = stack.product_ids[0]
    buyers = stack.shop.new_buyers(BUYERS)

    def read(driver: str) -> loadgen.LoadResult:
        return loadgen.load(f"{services[driver]}/products/{product_id}", CONNECTIONS,
                            ctx.seconds, bearer)

    def order(driver: str) -> Cell:
        hot = stack.new_product(AMPLE_STOCK, services[driver])
        return place_orders(f"{services[driver]}/products/{hot}/orders", buyers, ctx.seconds)

    runs = interleaved({
        f"read {driver}": (lambda d=driver: read(d)) for driver in services
    } | {
        f"order {driver}": (lambda d=driver: order(d)) for driver in services
    }, ctx.rounds)
    rows = []
    reads = {driver: load_row(SECTION, f"c{CONNECTIONS} GET /products/{{id}}, {driver}",
                              runs[f"read {driver}"]) for driver in services}
    rows += [reads[PG8000], reads[PSYCOPG].against(reads[PG8000])]
    orders = {}
    for driver in services:
        cells: list[Cell] = runs[f"order {driver}"]  # type: ignore[assignment]
        others = sum(n for cell in cells for s, n in cell.statuses.items() if s != 201)
        orders[driver] = Row(SECTION, f"{BUYERS} buyers placing orders (saga), {driver}",
                             median([c.per_second for c in cells]), "orders/s",
                             note=f"{others} not 201" if others else "",
                             samples=[round(c.per_second, 1) for c in cells])
    rows += [orders[PG8000], orders[PSYCOPG].against(orders[PG8000])]
    return rows
