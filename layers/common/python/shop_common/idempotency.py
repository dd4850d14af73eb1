"""What makes two requests under one idempotency key "the same request"."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def fingerprint(request: Mapping[str, Any]) -> str:
    """A digest of the request's JSON-ready fields that ignores their order.

    Stored beside the key, so that a replay of the key with a different request is
    recognised; changing the canonical form would make stored fingerprints unmatchable.
    """
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
