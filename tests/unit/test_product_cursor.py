"""Keyset cursors: opaque, round-trip exactly, and refuse anything that is not one."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shop_common.errors import Problem
from shop_common.pagination import (
    PageRequest,
    Position,
    decode_cursor,
    encode_cursor,
    page_body,
    page_request,
)

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
    # Wrong JSON types: uuid.UUID(5) raises AttributeError, which used to be a 500.
    base64.urlsafe_b64encode(b'{"t":"2026-01-01T00:00:00+00:00","i":5}').decode(),
    base64.urlsafe_b64encode(b'{"t":"2026-01-01T00:00:00+00:00","i":["x"]}').decode(),
    base64.urlsafe_b64encode(b'{"t":"2026-01-01T00:00:00+00:00","i":{"a":1}}').decode(),
    base64.urlsafe_b64encode(b'{"t":20260101,"i":"%s"}' % str(uuid.uuid4()).encode()).decode(),
    # Valid timestamps that do not exist in UTC: the driver's conversion overflowed.
    base64.urlsafe_b64encode(b'{"t":"0001-01-01T00:00:00+14:00","i":"%s"}'
                             % str(uuid.uuid4()).encode()).decode(),
    base64.urlsafe_b64encode(b'{"t":"9999-12-31T23:59:59-14:00","i":"%s"}'
                             % str(uuid.uuid4()).encode()).decode(),
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


def test_can_hand_back_a_position_in_utc_whatever_offset_it_was_written_with() -> None:
    moment = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=5)))
    raw = json.dumps({"t": moment.isoformat(), "i": str(POSITION.id)}).encode()
    position = decode_cursor(base64.urlsafe_b64encode(raw).decode())
    assert position.created_at == moment and position.created_at.utcoffset() == timedelta(0)


def test_can_build_a_page_from_one_row_more_than_the_limit() -> None:
    rows = [Position(POSITION.created_at + timedelta(seconds=n), uuid.uuid4()) for n in range(3)]
    page = PageRequest(limit=2, after=None, cursor="")
    body = page_body(rows, page, lambda row: {"id": str(row.id)})
    assert body["items"] == [{"id": str(rows[0].id)}, {"id": str(rows[1].id)}]
    assert decode_cursor(body["next_cursor"]) == rows[1]
    assert page_body(rows[:2], page, lambda row: {"id": str(row.id)})["next_cursor"] is None
