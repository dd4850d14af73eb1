"""The order service's internal body: a replay is recognised by everything but its key."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from pydantic import ValidationError

from tests.support.functions import function_module

schemas = function_module("order", "schemas")


def body(**changes: object):
    return schemas.InternalOrderBody.model_validate({
        "idempotency_key": "k-1", "user_id": str(uuid.UUID(int=1)),
        "product_id": str(uuid.UUID(int=2)), "product_name": "Mug", "quantity": 2,
        "unit_price": "9.99", **changes,
    })


def test_the_fingerprint_ignores_the_key_and_how_the_price_was_written() -> None:
    assert body().fingerprint() == body(idempotency_key="k-2").fingerprint()
    # A JSON number is read as an exact Decimal (shop_common.validation.loads_exact).
    assert body().fingerprint() == body(unit_price=Decimal("9.99")).fingerprint()
    assert body().fingerprint() == body(unit_price="9.990").fingerprint()


@pytest.mark.parametrize("changes", [
    {"quantity": 3}, {"unit_price": "9.98"}, {"product_name": "Cup"},
    {"user_id": str(uuid.UUID(int=3))}, {"product_id": str(uuid.UUID(int=4))},
])
def test_any_other_difference_is_a_different_order(changes: dict[str, object]) -> None:
    assert body(**changes).fingerprint() != body().fingerprint()


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        body(total="19.98")
