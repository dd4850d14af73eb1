"""Pydantic models of what more than one service sends, and the JSON Schema of shared types.

Services shape their responses with these models (`Model(...).model_dump(mode="json")`)
and the OpenAPI documents take their schemas from the same models, so a response and
its documented schema cannot drift apart.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from shop_common import money

MONEY_TEXT_SCHEMA: dict[str, Any] = {
    "type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "examples": ["9.99"],
    "description": "a decimal amount with exactly two places, as a string",
}
PRICE_INPUT_SCHEMA: dict[str, Any] = {
    "description": "a positive amount up to 99999999.99 with at most two decimal places, "
                   "as a string (\"9.99\") or a JSON number (9.99); a third place is a 422",
    "anyOf": [
        {"type": "number", "exclusiveMinimum": 0, "maximum": 99999999.99},
        {"type": "string", "pattern": r"^\s*\+?[0-9]{1,8}(\.[0-9]{1,2})?\s*$"},
    ],
    "examples": ["9.99"],
}

# A request's price: money.Price, with a schema that says what money.parse_money takes.
Price = Annotated[
    money.Price,
    WithJsonSchema(PRICE_INPUT_SCHEMA, mode="validation"),
    WithJsonSchema(MONEY_TEXT_SCHEMA, mode="serialization"),
]
# An amount in a response: "9.99".
MoneyText = Annotated[
    Decimal,
    PlainSerializer(money.format_money, return_type=str),
    WithJsonSchema(MONEY_TEXT_SCHEMA),
]
# A timestamp in a response: ISO 8601 with its offset, as datetime.isoformat() writes it.
Timestamp = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class FieldProblem(BaseModel):
    """One invalid input of a 422 problem: which field and what is wrong with it."""

    field: str = Field(description="the bad field: a body field, a query parameter or a header")
    message: str


class ProblemDetails(BaseModel):
    """An error, as `application/problem+json` (RFC 9457, https://www.rfc-editor.org/rfc/rfc9457).

    More members may follow `type` (e.g. `available` with out-of-stock, `checks` with
    a degraded health check).
    """

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="a URI naming the kind of problem, e.g. "
                                  "https://serverless-shop.dev/problems/out-of-stock")
    title: str
    status: int = Field(ge=400, le=599, description="the HTTP status, repeated")
    detail: str = Field(description="what went wrong with this request")
    instance: str | None = Field(default=None, description="the request path")
    errors: list[FieldProblem] | None = Field(
        default=None, description="with 422: one entry per bad field")


class HealthCheck(BaseModel):
    """One dependency's probe: up or down, how long it took in milliseconds, and why if down."""

    status: Literal["up", "down"]
    latency_ms: float
    error: str | None = Field(default=None, description="the exception's class when down")


class HealthReport(BaseModel):
    """The 200 body of `GET /health`: every dependency of the service is up."""

    service: str
    status: Literal["ok"]
    checks: dict[str, HealthCheck] = Field(
        description="one entry per dependency: database, cache, broker")


class OrderOut(BaseModel):
    """An order, as the order service keeps it and the product service hands it on."""

    id: uuid.UUID
    user_id: uuid.UUID
    product_id: uuid.UUID
    product_name: str
    quantity: int = Field(ge=1, le=1000)
    unit_price: MoneyText
    total: MoneyText
    status: str
    created_at: Timestamp
