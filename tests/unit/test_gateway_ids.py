"""The identifiers the runtime stamps on requests and invocations have AWS's shapes."""

from __future__ import annotations

import base64
import re
import uuid

from shop_local.runtime.ids import base64_id, random_hex, request_id


def test_request_ids_are_distinct_version_4_uuids() -> None:
    ids = [request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == text


def test_hex_and_base64_ids_have_the_requested_length() -> None:
    assert re.fullmatch(r"[0-9a-f]{24}", random_hex(12))
    assert len(base64.b64decode(base64_id(11))) == 11
