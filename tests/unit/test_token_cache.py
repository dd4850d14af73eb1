"""Verified user claims cached until exp: never a failure, never past exp, never another key's."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from shop_common.tokens import TokenError, VerifiedClaimsCache, issue_user_token

ISSUER, AUDIENCE = "shop-user-service", "shop"
KEY = ed25519.Ed25519PrivateKey.generate()
OTHER_KEY = ed25519.Ed25519PrivateKey.generate()
USER_ID = "6f1c2a3e-8d4b-4f5a-9c7e-2b1d0e9f8a7c"


def token(key: ed25519.Ed25519PrivateKey = KEY, ttl: int = 900, now: int | None = None,
          role: str = "enduser") -> str:
    return issue_user_token(key, user_id=USER_ID, role=role, issuer=ISSUER,
                            audience=AUDIENCE, ttl_seconds=ttl, now=now)


PUBLIC = KEY.public_key()


def test_can_answer_a_verified_token_from_the_cache() -> None:
    cache = VerifiedClaimsCache()
    value = token()
    first = cache.verify(value, PUBLIC, issuer=ISSUER, audience=AUDIENCE)
    again = cache.verify(value, PUBLIC, issuer=ISSUER, audience=AUDIENCE)
    assert again is first and first.user_id == USER_ID and len(cache) == 1


def test_an_entry_is_never_used_at_or_after_its_exp() -> None:
    cache = VerifiedClaimsCache()
    value = token()
    first = cache.verify(value, PUBLIC, issuer=ISSUER, audience=AUDIENCE)
    # At exp the entry is dropped and the token verified afresh (still valid by the clock
    # here, so it verifies again: a new object, not the cached one).
    later = cache.verify(value, PUBLIC, issuer=ISSUER, audience=AUDIENCE,
                         now=first.expires_at)
    assert later is not first and later == first


def test_an_expired_token_is_refused_and_never_cached() -> None:
    cache = VerifiedClaimsCache()
    expired = token(ttl=60, now=int(time.time()) - 3600)
    for _ in range(2):
        with pytest.raises(TokenError):
            cache.verify(expired, PUBLIC, issuer=ISSUER, audience=AUDIENCE)
    assert len(cache) == 0


def test_a_forged_token_is_refused_every_time() -> None:
    cache = VerifiedClaimsCache()
    forged = token(key=OTHER_KEY)
    for _ in range(2):
        with pytest.raises(TokenError):
            cache.verify(forged, PUBLIC, issuer=ISSUER, audience=AUDIENCE)
    assert len(cache) == 0


def test_a_cached_token_is_not_accepted_with_another_key() -> None:
    cache = VerifiedClaimsCache()
    value = token()
    cache.verify(value, PUBLIC, issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(TokenError):
        cache.verify(value, OTHER_KEY.public_key(), issuer=ISSUER, audience=AUDIENCE)


def test_a_cached_token_is_not_accepted_for_another_audience() -> None:
    cache = VerifiedClaimsCache()
    value = token()
    cache.verify(value, PUBLIC, issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(TokenError):
        cache.verify(value, PUBLIC, issuer=ISSUER, audience="somewhere-else")


def test_the_cache_is_bounded_and_drops_the_least_recently_used() -> None:
    cache = VerifiedClaimsCache(size=2)
    oldest, middle, newest = (token(role=r) for r in ("enduser", "superadmin", "enduser"))
    newest = token(ttl=899)  # a different token for the same user
    first = cache.verify(oldest, PUBLIC, issuer=ISSUER, audience=AUDIENCE)
    cache.verify(middle, PUBLIC, issuer=ISSUER, audience=AUDIENCE)
    cache.verify(newest, PUBLIC, issuer=ISSUER, audience=AUDIENCE)
    assert len(cache) == 2
    assert cache.verify(oldest, PUBLIC, issuer=ISSUER, audience=AUDIENCE) is not first
