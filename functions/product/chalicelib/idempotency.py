"""The `Idempotency-Key` header and the fingerprint of the request it names."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

from shop_common.errors import bad_request
from shop_common.idempotency import fingerprint

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Visible ASCII only: the key is stored, logged and compared byte for byte.
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def idempotency_key(headers: Mapping[str, str]) -> str:
    value = (headers.get(HEADER.lower()) or "").strip()
    if not value:
        raise bad_request(f"the {HEADER} header is required", slug="idempotency-key-missing")
    if not _KEY.fullmatch(value):
        raise bad_request(
            f"the {HEADER} header must be 1 to {MAX_KEY_LENGTH} visible ASCII characters",
            slug="idempotency-key-invalid",
        )
    return value


def request_fingerprint(product_id: uuid.UUID, quantity: int) -> str:
    """What makes two requests "the same" for one key: the product and the body."""
    return fingerprint({"product_id": str(product_id), "quantity": quantity})

