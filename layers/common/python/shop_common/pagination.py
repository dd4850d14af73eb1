"""Keyset pagination: an opaque cursor that points just past the last item of a page.

A cursor holds the sort key of that item (`created_at`, `id`), so a page is one
index range scan however deep the client has paged, and rows inserted meanwhile
never shift a page the way OFFSET would.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from shop_common.errors import FieldError, validation_failed

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 200


@dataclass(frozen=True)
class Position:
    created_at: datetime
    id: uuid.UUID


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after: Position | None
    cursor: str  # as the client sent it ("" for the first page); part of cache keys


def encode_cursor(position: Position) -> str:
    raw = json.dumps({"t": position.created_at.isoformat(), "i": str(position.id)},
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor points at; ValueError if it is not one of ours."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise ValueError("not a cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        created_at = datetime.fromisoformat(data["t"])
        item_id = uuid.UUID(data["i"])
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise ValueError("not a cursor") from None
    if created_at.tzinfo is None:
        raise ValueError("not a cursor")
    return Position(created_at, item_id)


def parse_limit(text: str | None, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= maximum:
        raise ValueError(f"must be an integer from 1 to {maximum}")
    return int(text)


def page_request(query: Mapping[str, str] | None, default_limit: int = DEFAULT_LIMIT,
                 max_limit: int = MAX_LIMIT) -> PageRequest:
    """`?limit=&cursor=` read and checked; a 422 problem names each bad parameter."""
    query = query or {}
    errors: list[FieldError] = []
    limit = default_limit
    after = None
    cursor = query.get("cursor") or ""
    try:
        limit = parse_limit(query.get("limit"), default_limit, max_limit)
    except ValueError as exc:
        errors.append(FieldError("limit", str(exc)))
    if cursor:
        try:
            after = decode_cursor(cursor)
        except ValueError:
            errors.append(FieldError("cursor", "not a cursor from a previous page"))
    if errors:
        raise validation_failed(errors)
    return PageRequest(limit, after, cursor)
