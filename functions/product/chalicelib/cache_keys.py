"""The catalog cache's keys: one per listing page, one per product."""

from __future__ import annotations

import hashlib
import uuid

from shop_common.pagination import PageRequest

# Hex digits of the cursor's SHA-256 kept in a key: a cursor can be long, a key stays short.
CURSOR_DIGEST_LENGTH = 32


def page_key(page: PageRequest) -> tuple[str, ...]:
    """("list", limit, cursor digest): each page of the listing is cached on its own."""
    cursor_digest = hashlib.sha256(page.cursor.encode()).hexdigest()[:CURSOR_DIGEST_LENGTH]
    return ("list", str(page.limit), cursor_digest)


def product_key(product_id: uuid.UUID) -> tuple[str, ...]:
    """("product", id): one product as `GET /products/{id}` answers it."""
    return ("product", str(product_id))
