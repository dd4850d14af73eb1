"""One-off operations run from the `shop` command, outside any HTTP request."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from chalicelib.deps import catalog_cache, ordering_deps, runtime
from chalicelib.models import Product
from chalicelib.sweeper import settle_due_reservations
from shop_common.clock import utcnow
from shop_common.db import transaction

# Fixed ids make seeding idempotent: a product already there is left as it is, and so is
# one a superadmin deleted (its soft-deleted row keeps the id).
DEMO_NAMESPACE = uuid.UUID("5b0f3c1e-7d43-4a8e-9c55-1f6a2d9e8b10")
DEMO_PRODUCTS = (
    ("Espresso beans, 1 kg", "Dark roast, whole beans.", "24.90", 120),
    ("Pour-over kettle", "Gooseneck, 1 litre, stainless steel.", "39.00", 40),
    ("Ceramic mug", "350 ml, dishwasher safe.", "9.99", 250),
    ("Hand grinder", "Conical burrs, adjustable.", "59.50", 25),
    ("Paper filters (100)", "Size 02, unbleached.", "4.75", 500),
)


def seed_demo_products() -> str:
    """Insert the demo catalog; products that exist already are not touched.

    A demo product a superadmin deleted stays deleted: `shop up` and `shop setup` run
    this every time, and a catalog that brings back what was removed on purpose would
    undo the superadmin's work at each start. The answer counts it apart, e.g.
    "demo products: 0 created, 4 already there, 1 deleted by a superadmin and left
    deleted" (`shop reset` starts from an empty catalog, which is seeded in full again).
    """
    created = 0
    start = utcnow()
    ids = [uuid.uuid5(DEMO_NAMESPACE, name) for name, *_ in DEMO_PRODUCTS]
    with transaction(runtime().sessions) as session:
        for position, (name, description, price, stock) in enumerate(DEMO_PRODUCTS):
            # Distinct timestamps keep the listing in the order above.
            moment = start + timedelta(milliseconds=position)
            result = session.execute(
                insert(Product)
                .values(id=ids[position], name=name,
                        description=description, price=Decimal(price), stock=stock,
                        created_at=moment, updated_at=moment)
                .on_conflict_do_nothing(index_elements=[Product.id])
            )
            created += result.rowcount  # type: ignore[attr-defined]
        deleted = session.scalar(
            select(func.count()).select_from(Product)
            .where(Product.id.in_(ids), Product.deleted_at.is_not(None))
        ) or 0
    if created:
        catalog_cache().invalidate()
    answer = (f"demo products: {created} created, "
              f"{len(DEMO_PRODUCTS) - created - deleted} already there")
    if deleted:
        answer += f", {deleted} deleted by a superadmin and left deleted"
    return answer


def settle_reservations() -> str:
    """Run the sweeper once, now (the schedule runs it every minute)."""
    return str(settle_due_reservations(ordering_deps()))
