"""Money parsing: two decimal places, from a string or a JSON number, never rounded."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from shop_common.money import Price, format_money, parse_money


@pytest.mark.parametrize(("raw", "expected"), [
    ("9.99", "9.99"), (9.99, "9.99"), (10, "10.00"), ("10", "10.00"), ("9.9", "9.90"),
    (" 9.90 ", "9.90"), ("9.990", "9.99"), (0.1, "0.10"), ("99999999.99", "99999999.99"),
    (Decimal("1.5"), "1.50"), (json.loads("19.95"), "19.95"),
])
def test_can_read_amounts_with_up_to_two_places(raw: object, expected: str) -> None:
    assert format_money(parse_money(raw)) == expected


@pytest.mark.parametrize(("raw", "message"), [
    ("9.999", "two decimal places"), (9.999, "two decimal places"),
    (1e-7, "two decimal places"), ("0.001", "two decimal places"),
    (float("nan"), "finite"), (float("inf"), "finite"), (json.loads("1e400"), "finite"),
    (True, "decimal amount"), (None, "decimal amount"), ([1], "decimal amount"),
    ("1e3", "decimal amount"), ("1_000", "decimal amount"), ("", "decimal amount"),
    ("9,99", "decimal amount"), ("NaN", "decimal amount"),
    (10**30, "at most"), ("100000000.00", "at most"),
])
def test_refuses_what_is_not_an_amount_of_cents(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_money(raw)


class Priced(BaseModel):
    price: Price


def test_a_price_is_positive_and_serialises_as_a_string() -> None:
    assert Priced.model_validate({"price": 5}).model_dump(mode="json") == {"price": "5.00"}
    for bad in (0, "0.00", -1, "-0.01"):
        with pytest.raises(ValidationError):
            Priced.model_validate({"price": bad})
