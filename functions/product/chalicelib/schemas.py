"""Request bodies and the public shape of a product."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StrictInt

from chalicelib.models import Product
from shop_common.money import Price, format_money
from shop_common.validation import StrictBody

MAX_STOCK = 1_000_000_000  # well inside PostgreSQL's integer
MAX_QUANTITY = 1000

Name = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=2000)]
# Strict: 2.0, "2" and true are not quantities, whatever lax parsing would make of them.
Stock = Annotated[StrictInt, Field(ge=0, le=MAX_STOCK)]
Quantity = Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]


class ProductBody(StrictBody):
    """A whole product, for POST and PUT (PUT replaces every field)."""

    name: Name
    description: Description = ""
    price: Price
    stock: Stock


class PlaceOrderBody(StrictBody):
    quantity: Quantity


def product_view(product: Product) -> dict[str, Any]:
    return {
        "id": str(product.id),
        "name": product.name,
        "description": product.description,
        "price": format_money(product.price),
        "stock": product.stock,
        "created_at": product.created_at.isoformat(),
        "updated_at": product.updated_at.isoformat(),
    }
