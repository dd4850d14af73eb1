"""User tokens and service tokens (JWT), with the algorithm pinned on every verify."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519

from shop_common.keys import SigningKey, VerifyingKey

# Claim and header values, not secrets.
USER_TOKEN_TYPE = "user"  # noqa: S105
SERVICE_TOKEN_TYPE = "service"  # noqa: S105
USER_TOKEN_KID = "user-tokens-1"  # noqa: S105


class TokenError(Exception):
    """The token is missing, malformed, expired, or not meant for this use."""


# PyJWT's words for an `exp`, `iat` or `nbf` that is not a NumericDate (RFC 7519 §2).
NOT_A_NUMBER = re.compile(r"\((exp|iat|nbf)\) must be an integer")


def refusal_reason(exc: jwt.PyJWTError) -> str:
    """Why PyJWT refused a token, as a sentence for the client (PyJWT's own wording, such
    as "Not enough segments", names its internals). Claim names are RFC 7519's.
    """
    match exc:
        case jwt.ExpiredSignatureError():
            return "the token has expired (exp)"
        case jwt.ImmatureSignatureError():
            claim = "nbf" if "nbf" in str(exc) else "iat"
            return f"the token is not yet valid ({claim} is in the future)"
        case jwt.MissingRequiredClaimError():
            return f"the token has no {exc.claim} claim"
        case jwt.InvalidAudienceError():
            return "the token is not meant for this service (aud)"
        case jwt.InvalidIssuerError():
            return "the token was not issued by whom this service trusts (iss)"
        case jwt.InvalidSignatureError():
            return "the token's signature does not verify"
        case jwt.InvalidAlgorithmError():
            return "the token is not signed with the algorithm its key uses (alg)"
        case jwt.DecodeError() if (named := NOT_A_NUMBER.search(str(exc))):
            return f"the token's {named.group(1)} claim is not a number"
        case jwt.DecodeError():
            return "the token is not a well-formed signed JWT"
        case _:
            return "the token is not valid"


def algorithm_for(key: SigningKey | VerifyingKey) -> str:
    """The JWS `alg` for a key: "EdDSA" for Ed25519 (RFC 8037), else "RS256" (RFC 7518 §3.3)."""
    eddsa = isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey)
    return "EdDSA" if eddsa else "RS256"


@dataclass(frozen=True)
class UserClaims:
    """What a verified user token says: user id (UUID text), role, `exp` (epoch seconds)."""

    user_id: str
    role: str
    expires_at: int


@dataclass(frozen=True)
class ServiceClaims:
    """What a verified service token says: the calling service and the audience it named."""

    caller: str
    audience: str


def issue_user_token(
    key: SigningKey, *, user_id: str, role: str, issuer: str, audience: str, ttl_seconds: int,
    now: int | None = None,
) -> str:
    """A signed user token (RFC 7519 JWT, compact form) with `kid` "user-tokens-1".

    Claims: `iss`, `aud`, `sub` (the user id), `role`, `typ` "user", `iat` and
    `exp = iat + ttl_seconds` (epoch seconds; `now` overrides the clock, for tests).
    """
    issued_at = int(time.time()) if now is None else now
    claims = {
        "iss": issuer, "aud": audience, "sub": user_id, "role": role,
        "typ": USER_TOKEN_TYPE, "iat": issued_at, "exp": issued_at + ttl_seconds,
    }
    return jwt.encode(claims, key, algorithm=algorithm_for(key), headers={"kid": USER_TOKEN_KID})


def verify_user_token(
    token: str, key: VerifyingKey, *, issuer: str, audience: str,
    max_ttl_seconds: int = 900, leeway_seconds: int = 0,
) -> UserClaims:
    """The claims of a user token; TokenError when it is not one we would have issued.

    `max_ttl_seconds` caps `exp - iat` (the issuer's configured lifetime), so a token
    minted to live for years is refused even while its signature holds.
    `leeway_seconds` tolerates that much clock skew on `iat`, `nbf` and `exp`
    (RFC 7519 §4.1.4-4.1.6 allow "some small leeway").
    """
    try:
        claims = jwt.decode(
            token, key, algorithms=[algorithm_for(key)], audience=audience, issuer=issuer,
            leeway=leeway_seconds,
            options={"require": ["iss", "aud", "sub", "exp", "iat", "role"]},
        )
    except jwt.PyJWTError as exc:
        raise TokenError(refusal_reason(exc)) from None
    if claims.get("typ") != USER_TOKEN_TYPE:
        raise TokenError("not a user token")
    check_lifetime(claims, max_ttl_seconds)
    if claims["role"] not in ("enduser", "superadmin"):
        raise TokenError("unknown role")
    try:
        # The user service only issues UUID subjects; anything else would reach the
        # services' queries as an id they cannot parse.
        uuid.UUID(str(claims["sub"]))
    except ValueError:
        raise TokenError("malformed subject") from None
    return UserClaims(user_id=str(claims["sub"]), role=claims["role"], expires_at=claims["exp"])


def issue_service_token(
    key: SigningKey, *, caller: str, audience: str, ttl_seconds: int, now: int | None = None
) -> str:
    """A signed service token (RFC 7519 JWT) from `caller` to `audience`, `kid` = `caller`.

    Claims: `iss` and `sub` = `caller`, `aud`, `typ` "service", `iat` and
    `exp = iat + ttl_seconds` (epoch seconds; `now` overrides the clock).
    """
    issued_at = int(time.time()) if now is None else now
    claims = {
        "iss": caller, "sub": caller, "aud": audience, "typ": SERVICE_TOKEN_TYPE,
        "iat": issued_at, "exp": issued_at + ttl_seconds,
    }
    return jwt.encode(claims, key, algorithm=algorithm_for(key), headers={"kid": caller})


def verify_service_token(
    token: str, publics: Mapping[str, VerifyingKey], *, audience: str,
    max_ttl_seconds: int = 60, leeway_seconds: int = 0,
) -> ServiceClaims:
    """Accept a token only from a known service, for this service, and short-lived.

    `leeway_seconds` as for `verify_user_token`.
    """
    try:
        caller = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise TokenError(refusal_reason(exc)) from None
    key = publics.get(caller) if isinstance(caller, str) else None
    if key is None:
        raise TokenError("unknown calling service")
    try:
        claims = jwt.decode(
            token, key, algorithms=[algorithm_for(key)], audience=audience, issuer=caller,
            leeway=leeway_seconds,
            options={"require": ["iss", "aud", "sub", "exp", "iat"]},
        )
    except jwt.PyJWTError as exc:
        raise TokenError(refusal_reason(exc)) from None
    if claims.get("typ") != SERVICE_TOKEN_TYPE or claims["sub"] != caller:
        raise TokenError("not a service token")
    check_lifetime(claims, max_ttl_seconds)
    return ServiceClaims(caller=caller, audience=audience)


def check_lifetime(claims: Mapping[str, Any], max_ttl_seconds: int) -> None:
    """Refuse a token whose `exp - iat` exceeds what its issuer may grant.

    PyJWT has checked that both are integers (or integral numbers).
    """
    if int(claims["exp"]) - int(claims["iat"]) > max_ttl_seconds:
        raise TokenError(f"token lives longer than {max_ttl_seconds} s")


def public_jwk(key: VerifyingKey, kid: str) -> dict[str, Any]:
    """`key` as a JSON Web Key (RFC 7517) with `kid`, `alg` and `use: "sig"`.

    Ed25519 keys are OKP keys (RFC 8037), others RSA; the user service publishes its
    user-token key this way.
    """
    if isinstance(key, ed25519.Ed25519PublicKey):
        jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key))
    else:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    return {**jwk, "kid": kid, "alg": algorithm_for(key), "use": "sig"}


# --- verified user claims, cached until they expire ---------------------------------

CLAIMS_CACHE_SIZE = 4096


class VerifiedClaimsCache:
    """Claims of user tokens that verified, until each token's `exp`, at most `size` of them.

    Keyed by the SHA-256 of the token with the issuer and audience it was checked
    against, so no token is kept in memory; an entry also remembers the key that
    verified it and is used only with that same key. A token that failed is never
    cached (it is verified again, and fails again, every time), and an entry is never
    used at or after its `exp`: it is dropped and the token verified afresh, which
    then fails as expired. Least recently used entries go first when full.
    """

    def __init__(self, size: int = CLAIMS_CACHE_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[bytes, tuple[UserClaims, VerifyingKey]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str, *checked_against: str) -> bytes:
        return hashlib.sha256("\0".join((token, *checked_against)).encode()).digest()

    def verify(self, token: str, key: VerifyingKey, *, issuer: str, audience: str,
               max_ttl_seconds: int = 900, leeway_seconds: int = 0,
               now: float | None = None) -> UserClaims:
        """`verify_user_token`'s answer, from the cache while the token is unexpired.

        A cached entry is used only before `exp` itself (the leeway applies to fresh
        verifications only), so the cache never accepts what verification would refuse.
        """
        digest = self._key(token, issuer, audience, str(max_ttl_seconds), str(leeway_seconds))
        moment = time.time() if now is None else now
        with self._lock:
            entry = self._entries.get(digest)
            if entry is not None:
                claims, verified_with = entry
                if verified_with is key and moment < claims.expires_at:
                    self._entries.move_to_end(digest)
                    return claims
                del self._entries[digest]
        claims = verify_user_token(token, key, issuer=issuer, audience=audience,
                                   max_ttl_seconds=max_ttl_seconds, leeway_seconds=leeway_seconds)
        with self._lock:
            self._entries[digest] = (claims, key)
            self._entries.move_to_end(digest)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return claims

    def __len__(self) -> int:
        return len(self._entries)


_claims_cache = VerifiedClaimsCache()


def verify_user_token_cached(token: str, key: VerifyingKey, *, issuer: str, audience: str,
                             max_ttl_seconds: int = 900, leeway_seconds: int = 0) -> UserClaims:
    """`verify_user_token` behind this process's `VerifiedClaimsCache`."""
    return _claims_cache.verify(token, key, issuer=issuer, audience=audience,
                                max_ttl_seconds=max_ttl_seconds, leeway_seconds=leeway_seconds)
