"""Who is calling: "current user" / "current superadmin" / "calling service" helpers.

Each check reads the bearer token of the current request and either returns the
verified claims or raises a problem, so a route states its rule in one line.
"""

from __future__ import annotations

from collections.abc import Mapping

from shop_common.config import Settings
from shop_common.errors import forbidden, unauthorized
from shop_common.keys import KeyRing
from shop_common.tokens import (
    ServiceClaims,
    TokenError,
    UserClaims,
    verify_service_token,
    verify_user_token_cached,
)

SUPERADMIN = "superadmin"
ENDUSER = "enduser"


def bearer_token(headers: Mapping[str, str]) -> str:
    """The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1); 401 without one."""
    value = headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized()
    return token.strip()


def current_user(headers: Mapping[str, str], keys: KeyRing, settings: Settings) -> UserClaims:
    """The verified claims of the caller's user token (any role).

    Raises a 401 problem when the header is missing or the token is invalid: wrong
    signature, issuer or audience, expired, or a service token.
    """
    try:
        # Cached until the token's exp: an Ed25519 verify per request was a seventh of
        # a busy service's CPU, for the same few tokens again and again.
        return verify_user_token_cached(
            bearer_token(headers), keys.user_token_public,
            issuer=settings.token_issuer, audience=settings.token_audience,
            max_ttl_seconds=settings.access_token_ttl_seconds,
            leeway_seconds=settings.token_leeway_seconds,
        )
    except TokenError as exc:
        raise unauthorized(f"invalid token: {exc}") from None


def current_superadmin(headers: Mapping[str, str], keys: KeyRing, settings: Settings) -> UserClaims:
    """A superadmin's verified claims; 401 as `current_user`, 403 for another role."""
    user = current_user(headers, keys, settings)
    if user.role != SUPERADMIN:
        raise forbidden("superadmins only")
    return user


def current_enduser(headers: Mapping[str, str], keys: KeyRing, settings: Settings) -> UserClaims:
    """An enduser's verified claims; 401 as `current_user`, 403 for another role."""
    user = current_user(headers, keys, settings)
    if user.role != ENDUSER:
        raise forbidden("endusers only")
    return user


def calling_service(
    headers: Mapping[str, str], keys: KeyRing, settings: Settings, allowed: frozenset[str]
) -> ServiceClaims:
    """Accept only a service token addressed to this service from one of `allowed`."""
    try:
        claims = verify_service_token(
            bearer_token(headers), keys.service_publics,
            audience=settings.service_name, max_ttl_seconds=settings.service_token_ttl_seconds,
            leeway_seconds=settings.token_leeway_seconds,
        )
    except TokenError as exc:
        raise unauthorized(f"a service token is required: {exc}") from None
    if claims.caller not in allowed:
        raise forbidden(f"service {claims.caller!r} may not call this endpoint")
    return claims
