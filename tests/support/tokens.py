"""User tokens signed with a throw-away stack's key, as the user service issues them."""

from __future__ import annotations

from shop_common.keys import USER_TOKENS_KEY, load_private_key
from shop_common.tokens import issue_user_token
from tests.support.stack import ThrowawayStack


def fresh_user_token(stack: ThrowawayStack, user_id: str, role: str = "enduser") -> str:
    """A token for `user_id` valid for 900 s from now (the user service's lifetime)."""
    key = load_private_key(stack.workdir / "keys", USER_TOKENS_KEY)
    return issue_user_token(key, user_id=user_id, role=role, issuer="shop-user-service",
                            audience="shop", ttl_seconds=900)
