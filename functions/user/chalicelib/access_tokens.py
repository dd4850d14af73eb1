"""The user token a successful login answers with."""

from __future__ import annotations

from typing import Any

from shop_common.config import Settings
from shop_common.keys import KeyRing
from shop_common.tokens import issue_user_token


def access_token_body(keys: KeyRing, settings: Settings, user_id: str, role: str) -> dict[str, Any]:
    """`{access_token, token_type: "Bearer", expires_in}` (seconds) for the user `user_id`.

    The token is signed with the user service's private key (`keys.user_token_private`,
    which only the user service loads; AssertionError without it) and lives
    `settings.access_token_ttl_seconds`.
    """
    assert keys.user_token_private is not None
    token = issue_user_token(
        keys.user_token_private, user_id=user_id, role=role,
        issuer=settings.token_issuer, audience=settings.token_audience,
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": settings.access_token_ttl_seconds,
    }
