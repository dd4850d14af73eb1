"""Money: a decimal with two places, read from a string or a JSON number, written as a string.

Floats never hold an amount here, not even on the way in: bodies are parsed with JSON
numbers as Decimal (shop_common.validation.loads_exact), so `9.999999999999999999` is
seen as it was sent and refused, where a float would have made it 10.0. A float that
still arrives is refused, since what it was meant to say is lost. Text amounts take
ASCII digits only: Python's Decimal("٩.٩٩") is 9.99, but no client means that.
Anything that needs a third decimal place is refused rather than rounded.
"""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Annotated

from pydantic import BeforeValidator, Field, PlainSerializer

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("99999999.99")
# Any number of digits: a long amount is then refused for its size or its places, which
# is what is wrong with it (the body's own size bounds the work).
_AMOUNT_TEXT = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def parse_money(value: object) -> Decimal:
    """A Decimal with exactly two places; ValueError says what is wrong with `value`.

    Takes a str of ASCII digits, an int or a Decimal (a JSON number read exactly).
    """
    if isinstance(value, float):
        raise ValueError("must be an exact decimal amount such as 9.99, not a float")
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise ValueError("must be a decimal amount such as 9.99")
    if isinstance(value, str):
        text = value.strip()
        if not _AMOUNT_TEXT.fullmatch(text):
            raise ValueError("must be a decimal amount such as 9.99")
    else:
        text = str(value)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError("must be a decimal amount such as 9.99") from None
    if not amount.is_finite():
        raise ValueError("must be a finite amount")
    # The size check comes first: quantizing a huge value overflows the context, and so
    # does abs() (1e1000000 is past its Emax); copy_abs() is exact and never signals.
    if amount.copy_abs() > MAX_AMOUNT:
        raise ValueError(f"must be at most {MAX_AMOUNT}")
    if amount != amount.quantize(CENT, rounding=ROUND_DOWN):
        raise ValueError("must have at most two decimal places")
    return amount.quantize(CENT)


def format_money(amount: Decimal) -> str:
    """`amount` as text with exactly two places ("9.90"), rounded half-even."""
    return str(amount.quantize(CENT))


# A request field holding a positive amount; serialised back as "9.99".
Price = Annotated[
    Decimal,
    BeforeValidator(parse_money),
    Field(gt=0, le=MAX_AMOUNT),
    PlainSerializer(format_money, return_type=str),
]
