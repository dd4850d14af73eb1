"""Request bodies and the public shape of a product, as pydantic models.

The same models validate requests, shape responses and make the OpenAPI document.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from chalicelib.models import Product
from shop_common.api_models import MoneyText, Price, Timestamp
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
    quantity: Quantity = Field(description=f"units to buy, 1 to {MAX_QUANTITY}")


class ProductOut(BaseModel):
    """A product as every caller sees it."""

    model_config = ConfigDict(from_attributes=True, title="Product")

    id: uuid.UUID
    name: str
    description: str
    price: MoneyText
    stock: int = Field(ge=0, description="units left to sell")
    created_at: Timestamp
    updated_at: Timestamp


class ProductPage(BaseModel):
    items: list[ProductOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; "
                                                "null on the last page")


def product_view(product: Product) -> dict[str, Any]:
    return ProductOut.model_validate(product).model_dump(mode="json")
