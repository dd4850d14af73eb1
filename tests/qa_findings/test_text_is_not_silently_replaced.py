"""QA finding: a body that is not UTF-8 is stored with U+FFFD instead of being refused.

`shop_common.validation.parse_json` refuses bytes that are not UTF-8 with a 400
(tests/unit/test_validation.py feeds it b"\\xff\\xfe"), but the gateway decodes a
non-binary body with `errors="replace"` before the function sees it (as API Gateway
does), so the check never fires end to end: a client that sends Latin-1 gets a 201 and
its text is kept with replacement characters, and the welcome email greets "Ren�".

Seen on the live stack:

    curl -X POST 127.0.0.1:8001/users/register -H 'Content-Type: application/json' \\
      --data-binary $'{"email":"latin1@example.com","password":"correct-horse-9","name":"Ren\\xe9"}'
    -> 201 {"name": "Ren\\ufffd", ...}

A user checks that what they sent is either kept as sent or refused with a problem.
"""

from __future__ import annotations

import pytest

from tests.support.client import DEFAULT_PASSWORD, ShopClient, unique_email

pytestmark = pytest.mark.integration


def test_a_latin1_name_is_refused_not_stored_with_replacement_characters(
        user_service: ShopClient) -> None:
    fields = f'"email": "{unique_email("latin1")}", "password": "{DEFAULT_PASSWORD}"'
    body = ("{" + fields + ', "name": "Ren\xe9"}').encode("latin-1")
    answer = user_service.call("POST", "/users/register", data=body)
    assert answer.status_code in (400, 422), answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
