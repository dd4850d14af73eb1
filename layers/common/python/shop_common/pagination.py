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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from shop_common.errors import FieldError, validation_failed

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 200


@dataclass(frozen=True)
class Position:
    """The sort key of one listed row, (`created_at`, `id`): where a cursor points."""

    created_at: datetime
    id: uuid.UUID


class Keyed(Protocol):
    """A row of a listing paged by (`created_at`, `id`)."""

    @property
    def created_at(self) -> datetime: ...

    @property
    def id(self) -> uuid.UUID: ...


RowT = TypeVar("RowT", bound=Keyed)


@dataclass(frozen=True)
class PageRequest:
    """One page asked for: at most `limit` items, those after `after` (None for the first page).

    `cursor` is the cursor text as the client sent it ("" for the first page).
    """

    limit: int
    after: Position | None
    cursor: str  # as the client sent it ("" for the first page); part of cache keys


def encode_cursor(position: Position) -> str:
    """The opaque cursor for `position`, safe in a query string as it is.

    Unpadded URL-safe base64 (RFC 4648 §5) of compact JSON
    `{"t": <ISO 8601 created_at>, "i": <UUID>}`; `decode_cursor` reads it back.
    """
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
        stamp, key = data["t"], data["i"]
        # uuid.UUID(5) is an AttributeError, not a ValueError: check the types first.
        if not isinstance(stamp, str) or not isinstance(key, str):
            raise ValueError("not a cursor")
        created_at = datetime.fromisoformat(stamp)
        item_id = uuid.UUID(key)
        if created_at.tzinfo is None:
            raise ValueError("not a cursor")
        # In UTC, as the driver sends it: pg8000 converts a datetime only once it has
        # begun talking to the server, and an OverflowError there (year 1 at +14:00)
        # leaves the pooled connection broken for the next request.
        created_at = created_at.astimezone(UTC)
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError, OverflowError):
        raise ValueError("not a cursor") from None
    return Position(created_at, item_id)


def parse_limit(text: str | None, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    """The `limit` query parameter as an int; `default` when it is absent (None).

    Raises ValueError, with a message fit for a field problem, unless `text` is ASCII digits
    giving an integer from 1 to `maximum` inclusive.
    """
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


def page_body(rows: Sequence[RowT], page: PageRequest,
              view: Callable[[RowT], dict[str, Any]]) -> dict[str, Any]:
    """`{items, next_cursor}` from rows fetched with `LIMIT page.limit + 1`.

    The row past the limit is not shown: it only says that another page exists, and
    the cursor then points just past the last row shown.
    """
    items = rows[:page.limit]
    next_cursor = None
    if len(rows) > page.limit:
        next_cursor = encode_cursor(Position(items[-1].created_at, items[-1].id))
    return {"items": [view(row) for row in items], "next_cursor": next_cursor}
