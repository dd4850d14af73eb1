"""The Idempotency-Key header and the fingerprint that tells a replay from a different request."""

from __future__ import annotations

import uuid

import pytest

from shop_common.errors import Problem
from tests.support.functions import function_module

idempotency = function_module("product", "idempotency")

PRODUCT = uuid.uuid4()


def test_the_same_request_has_the_same_fingerprint() -> None:
    assert idempotency.request_fingerprint(PRODUCT, 2) == idempotency.request_fingerprint(
        uuid.UUID(str(PRODUCT)), 2)


def test_another_quantity_or_product_is_another_request() -> None:
    base = idempotency.request_fingerprint(PRODUCT, 2)
    assert idempotency.request_fingerprint(PRODUCT, 3) != base
    assert idempotency.request_fingerprint(uuid.uuid4(), 2) != base


def test_can_read_the_key_from_any_header_case_and_trimmed() -> None:
    assert idempotency.idempotency_key({"idempotency-key": " order-42 "}) == "order-42"


@pytest.mark.parametrize(("headers", "slug"), [
    ({}, "idempotency-key-missing"),
    ({"idempotency-key": "   "}, "idempotency-key-missing"),
    ({"idempotency-key": "x" * 256}, "idempotency-key-invalid"),
    ({"idempotency-key": "two words"}, "idempotency-key-invalid"),
    ({"idempotency-key": "caf\u00e9"}, "idempotency-key-invalid"),
])
def test_a_missing_or_malformed_key_is_a_400(headers: dict[str, str], slug: str) -> None:
    with pytest.raises(Problem) as caught:
        idempotency.idempotency_key(headers)
    assert caught.value.status == 400 and caught.value.slug == slug


def test_the_fingerprint_keeps_its_canonical_form() -> None:
    # Fingerprints are stored with reservations: the shared digest must not drift.
    assert idempotency.request_fingerprint(uuid.UUID(int=1), 2) == (
        "91c1240898804217f71e9dfecb21dec710a22032a4ef2e182ce6c83e2c6d08fe"
    )
