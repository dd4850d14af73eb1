"""Money parsing: two decimal places, from a string or an exact JSON number, never rounded."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from shop_common.money import Price, format_money, parse_money
from shop_common.validation import loads_exact


@pytest.mark.parametrize(("raw", "expected"), [
    ("9.99", "9.99"), (10, "10.00"), ("10", "10.00"), ("9.9", "9.90"),
    (" 9.90 ", "9.90"), ("9.990", "9.99"), ("99999999.99", "99999999.99"),
    ("0" * 5000 + "1.50", "1.50"), ("1." + "0" * 5000, "1.00"),
    (Decimal("1.5"), "1.50"), (loads_exact("19.95"), "19.95"), (loads_exact("0.1"), "0.10"),
    (loads_exact("1e2"), "100.00"),
])
def test_can_read_amounts_with_up_to_two_places(raw: object, expected: str) -> None:
    assert format_money(parse_money(raw)) == expected


@pytest.mark.parametrize(("raw", "message"), [
    ("9.999", "two decimal places"), ("0.001", "two decimal places"),
    # The JSON number: a float made it 10.0 and it was stored as 10.00.
    (loads_exact("9.999999999999999999"), "two decimal places"),
    (loads_exact("1e-7"), "two decimal places"), (loads_exact("1e400"), "at most"),
    (Decimal("NaN"), "finite"), (Decimal("-Infinity"), "finite"),
    # A float has already lost what was sent: never taken, whatever its value.
    (9.99, "not a float"), (json.loads("9.999999999999999999"), "not a float"),
    (float("nan"), "not a float"),
    # Python's Decimal reads any script's digits; an amount is ASCII.
    ("٩.٩٩", "decimal amount"), ("９.９９", "decimal amount"),  # noqa: RUF001 (the point)
    ("9.\N{FULLWIDTH DIGIT NINE}9", "decimal amount"),
    (True, "decimal amount"), (None, "decimal amount"), ([1], "decimal amount"),
    ("1e3", "decimal amount"), ("1_000", "decimal amount"), ("", "decimal amount"),
    ("9,99", "decimal amount"), ("NaN", "decimal amount"),
    (10**30, "at most"), ("100000000.00", "at most"),
    # Text of 5,000 digits is an amount, only too large: it was called "not a decimal amount".
    ("9" * 5000, "at most"), ("0." + "0" * 5000 + "1", "two decimal places"),
    # abs() of these overflowed Decimal's context: a 500 on POST /products.
    (Decimal("1e1000000"), "at most"), (Decimal("-1e99999999"), "at most"),
    (loads_exact("1e1000"), "at most"),
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
