"""What makes two requests under one idempotency key "the same request"."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from shop_common.errors import FieldError, Problem


def fingerprint(request: Mapping[str, Any]) -> str:
    """A digest of the request's JSON-ready fields that ignores their order.

    Stored beside the key, so that a replay of the key with a different request is
    recognised; changing the canonical form would make stored fingerprints unmatchable.
    """
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def key_reused(key_field: str, request_kind: str = "request") -> Problem:
    """The 422 problem (slug `idempotency-key-reused`) for a key sent again with another request.

    `key_field` names where the key came from (a header such as `Idempotency-Key`, or a
    body field such as `idempotency_key`) and is listed as the bad field; the detail
    reads "this <key_field, underscores as spaces> was already used for a different
    <request_kind>".
    """
    return Problem(
        422, "Unprocessable Content",
        f"this {key_field.replace('_', ' ')} was already used for a different {request_kind}",
        slug="idempotency-key-reused",
        errors=[FieldError(key_field, f"already used for a different {request_kind}")],
    )
