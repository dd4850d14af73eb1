"""Ids in URLs: a UUID in the one form the API writes, so that each resource has one URL.

Python's uuid.UUID() also takes `{…}`, `urn:uuid:…` and the 32 digits without hyphens;
a path id in any of those named the same product as its canonical form, so one product
had many URLs (and `DELETE /products/<32 digits>` deleted it). Only the hyphenated form
of RFC 9562 §4 is read here, in either case, as that section asks of a reader.
"""

from __future__ import annotations

import re
import uuid

_HYPHENATED = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def parse_uuid(text: str) -> uuid.UUID | None:
    """The UUID `text` writes as 8-4-4-4-12 hex digits (any case); None for anything else."""
    return uuid.UUID(text) if _HYPHENATED.fullmatch(text) else None
