"""Keyset cursors: opaque, round-trip exactly, and refuse anything that is not one."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest

from shop_common.errors import Problem
from shop_common.pagination import Position, decode_cursor, encode_cursor, page_request

POSITION = Position(datetime(2026, 11, 25, 10, 30, 0, 123456, tzinfo=UTC), uuid.uuid4())


def test_can_round_trip_a_position() -> None:
    cursor = encode_cursor(POSITION)
    assert "=" not in cursor and cursor.isascii()
    assert decode_cursor(cursor) == POSITION


@pytest.mark.parametrize("cursor", [
    "", "not-a-cursor", "A" * 300,
    base64.urlsafe_b64encode(b'{"t":"2026-01-01T00:00:00","i":"%s"}' % str(uuid.uuid4()).encode())
    .decode(),  # a naive timestamp
    base64.urlsafe_b64encode(b'{"t":"2026-01-01T00:00:00+00:00","i":"nope"}').decode(),
    base64.urlsafe_b64encode(b'[1, 2]').decode(),
])
def test_refuses_what_is_not_a_cursor(cursor: str) -> None:
    with pytest.raises(ValueError):
        decode_cursor(cursor)


def test_can_read_limit_and_cursor_from_the_query() -> None:
    page = page_request({"limit": "5", "cursor": encode_cursor(POSITION)})
    assert page.limit == 5 and page.after == POSITION
    first = page_request(None)
    assert first.limit == 20 and first.after is None and first.cursor == ""


@pytest.mark.parametrize(("query", "fields"), [
    ({"limit": "0"}, {"limit"}), ({"limit": "101"}, {"limit"}), ({"limit": "1.5"}, {"limit"}),
    ({"limit": "\u0663"}, {"limit"}), ({"cursor": "x"}, {"cursor"}),
    ({"limit": "-1", "cursor": "x"}, {"limit", "cursor"}),
])
def test_names_each_bad_parameter(query: dict[str, str], fields: set[str]) -> None:
    with pytest.raises(Problem) as caught:
        page_request(query)
    assert caught.value.status == 422 and {e.field for e in caught.value.errors} == fields
