"""Products in the database: the listing, lookups, and superadmin writes under a row lock."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from chalicelib.models import Product
from chalicelib.schemas import ProductBody, product_view
from shop_common.clock import utcnow
from shop_common.errors import not_found
from shop_common.ids import parse_uuid
from shop_common.pagination import PageRequest, page_body


def parse_id(text: str) -> uuid.UUID:
    """A product id from a path (`shop_common.ids`); anything that is not one is simply not
    found."""
    key = parse_uuid(text)
    if key is None:
        raise not_found("no such product")
    return key


def get_product(session: Session, product_id: uuid.UUID) -> Product:
    product = session.get(Product, product_id)
    if product is None or product.deleted_at is not None:
        raise not_found("no such product")
    return product


def lock_product(session: Session, product_id: uuid.UUID) -> Product:
    """The live product, row-locked until the transaction ends.

    The connection's `lock_timeout` bounds the wait: a lock that cannot be had in time
    becomes a 409 problem (shop_common.db), never a hang.
    """
    product = session.scalar(
        select(Product)
        .where(Product.id == product_id, Product.deleted_at.is_(None))
        .with_for_update()
    )
    if product is None:
        raise not_found("no such product")
    return product


def list_page(session: Session, page: PageRequest) -> dict[str, Any]:
    query = select(Product).where(Product.deleted_at.is_(None))
    if page.after is not None:
        query = query.where(
            tuple_(Product.created_at, Product.id) > tuple_(page.after.created_at, page.after.id)
        )
    rows = list(session.scalars(
        query.order_by(Product.created_at, Product.id).limit(page.limit + 1)
    ))
    return page_body(rows, page, product_view)


def create_product(session: Session, body: ProductBody) -> Product:
    now = utcnow()
    product = Product(
        id=uuid.uuid4(), name=body.name, description=body.description, price=body.price,
        stock=body.stock, created_at=now, updated_at=now,
    )
    session.add(product)
    session.flush()
    return product


def replace_product(session: Session, product_id: uuid.UUID, body: ProductBody) -> Product:
    product = lock_product(session, product_id)
    product.name = body.name
    product.description = body.description
    product.price = body.price
    product.stock = body.stock
    product.updated_at = utcnow()
    session.flush()
    return product


def delete_product(session: Session, product_id: uuid.UUID) -> None:
    product = lock_product(session, product_id)
    product.deleted_at = product.updated_at = utcnow()
