"""User and service tokens: what is accepted, and every way a token is refused."""

from __future__ import annotations

import time
from collections.abc import Callable

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from shop_common.tokens import (
    TokenError,
    issue_service_token,
    issue_user_token,
    public_jwk,
    verify_service_token,
    verify_user_token,
)

ISSUER, AUDIENCE = "shop-user-service", "shop"
USER_KEY = ed25519.Ed25519PrivateKey.generate()
SERVICE_KEYS = {name: ed25519.Ed25519PrivateKey.generate() for name in ("product", "order")}
SERVICE_PUBLICS = {name: key.public_key() for name, key in SERVICE_KEYS.items()}
USER_ID = "6f1c2a3e-8d4b-4f5a-9c7e-2b1d0e9f8a7c"


def user_token(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "user_id": USER_ID, "role": "enduser", "issuer": ISSUER, "audience": AUDIENCE,
        "ttl_seconds": 900, **overrides,
    }
    key = arguments.pop("key", USER_KEY)
    return issue_user_token(key, **arguments)  # type: ignore[arg-type]


def verify_user(token: str) -> object:
    return verify_user_token(token, USER_KEY.public_key(), issuer=ISSUER, audience=AUDIENCE)


def service_token(caller: str = "product", audience: str = "user", ttl: int = 60,
                  now: int | None = None) -> str:
    return issue_service_token(
        SERVICE_KEYS[caller], caller=caller, audience=audience, ttl_seconds=ttl, now=now
    )


def test_can_round_trip_a_user_token() -> None:
    claims = verify_user_token(
        user_token(role="superadmin"), USER_KEY.public_key(), issuer=ISSUER, audience=AUDIENCE
    )
    assert claims.user_id == USER_ID and claims.role == "superadmin"
    assert claims.expires_at - time.time() == pytest.approx(900, abs=5)


def test_user_token_is_signed_with_eddsa_and_names_its_key() -> None:
    header = jwt.get_unverified_header(user_token())
    assert header["alg"] == "EdDSA" and header["kid"] == "user-tokens-1"


def test_can_round_trip_a_user_token_signed_with_rsa() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = user_token(key=key)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = verify_user_token(token, key.public_key(), issuer=ISSUER, audience=AUDIENCE)
    assert claims.user_id == USER_ID


@pytest.mark.parametrize("token_factory", [
    pytest.param(lambda: user_token(ttl_seconds=60, now=int(time.time()) - 3600), id="expired"),
    pytest.param(lambda: user_token(audience="elsewhere"), id="wrong-audience"),
    pytest.param(lambda: user_token(issuer="evil"), id="wrong-issuer"),
    pytest.param(lambda: user_token(role="root"), id="unknown-role"),
    pytest.param(lambda: user_token(key=ed25519.Ed25519PrivateKey.generate()), id="wrong-key"),
    pytest.param(lambda: service_token(audience=AUDIENCE), id="service-token"),
    pytest.param(lambda: "not.a.token", id="garbage"),
])
def test_user_token_is_refused(token_factory) -> None:
    with pytest.raises(TokenError):
        verify_user(token_factory())


def test_alg_none_user_token_is_refused() -> None:
    now = int(time.time())
    unsigned = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": USER_ID, "role": "superadmin", "typ": "user",
         "iat": now, "exp": now + 900},
        None, algorithm="none",  # type: ignore[arg-type]
    )
    with pytest.raises(TokenError):
        verify_user(unsigned)


def test_user_token_without_user_typ_is_refused() -> None:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": USER_ID, "role": "enduser",
              "iat": now, "exp": now + 900}
    for typ in (None, "service"):
        body = claims if typ is None else {**claims, "typ": typ}
        token = jwt.encode(body, USER_KEY, algorithm="EdDSA")
        with pytest.raises(TokenError, match="not a user token"):
            verify_user(token)


def test_can_round_trip_a_service_token() -> None:
    claims = verify_service_token(service_token("order"), SERVICE_PUBLICS, audience="user")
    assert claims.caller == "order" and claims.audience == "user"


def test_service_token_for_another_service_is_refused() -> None:
    with pytest.raises(TokenError):
        verify_service_token(service_token(audience="order"), SERVICE_PUBLICS, audience="user")


def test_expired_service_token_is_refused() -> None:
    old = service_token(ttl=30, now=int(time.time()) - 120)
    with pytest.raises(TokenError):
        verify_service_token(old, SERVICE_PUBLICS, audience="user")


def test_service_token_living_longer_than_60_seconds_is_refused() -> None:
    with pytest.raises(TokenError, match="lives longer than 60 s"):
        verify_service_token(service_token(ttl=61), SERVICE_PUBLICS, audience="user")


def test_service_token_signed_by_another_services_key_is_refused() -> None:
    # Claims to come from product, but signed with order's key.
    now = int(time.time())
    forged = jwt.encode(
        {"iss": "product", "sub": "product", "aud": "user", "typ": "service",
         "iat": now, "exp": now + 30},
        SERVICE_KEYS["order"], algorithm="EdDSA", headers={"kid": "product"},
    )
    with pytest.raises(TokenError):
        verify_service_token(forged, SERVICE_PUBLICS, audience="user")


def test_service_token_from_an_unknown_service_is_refused() -> None:
    stranger = ed25519.Ed25519PrivateKey.generate()
    token = issue_service_token(stranger, caller="billing", audience="user", ttl_seconds=30)
    with pytest.raises(TokenError, match="unknown calling service"):
        verify_service_token(token, SERVICE_PUBLICS, audience="user")


def test_user_token_is_refused_as_a_service_token() -> None:
    # Even a user token that names a known service as its key id is not a service token.
    now = int(time.time())
    disguised = jwt.encode(
        {"iss": "product", "sub": "product", "aud": "user", "typ": "user", "role": "enduser",
         "iat": now, "exp": now + 30},
        SERVICE_KEYS["product"], algorithm="EdDSA", headers={"kid": "product"},
    )
    with pytest.raises(TokenError, match="not a service token"):
        verify_service_token(disguised, SERVICE_PUBLICS, audience="user")
    with pytest.raises(TokenError):
        verify_service_token(user_token(audience="user"), SERVICE_PUBLICS, audience="user")


def test_alg_none_service_token_is_refused() -> None:
    now = int(time.time())
    unsigned = jwt.encode(
        {"iss": "product", "sub": "product", "aud": "user", "typ": "service",
         "iat": now, "exp": now + 30},
        None, algorithm="none", headers={"kid": "product"},  # type: ignore[arg-type]
    )
    with pytest.raises(TokenError):
        verify_service_token(unsigned, SERVICE_PUBLICS, audience="user")


def test_can_publish_the_user_token_key_as_a_jwk_that_verifies_tokens() -> None:
    jwk = public_jwk(USER_KEY.public_key(), "user-tokens-1")
    assert jwk["kid"] == "user-tokens-1" and jwk["alg"] == "EdDSA" and jwk["use"] == "sig"
    assert "d" not in jwk  # never the private half
    key = jwt.PyJWK(jwk).key
    claims = verify_user_token(user_token(), key, issuer=ISSUER, audience=AUDIENCE)
    assert claims.user_id == USER_ID


def test_a_user_token_whose_subject_is_not_a_user_id_is_refused() -> None:
    with pytest.raises(TokenError, match="malformed subject"):
        verify_user(user_token(user_id="not-a-uuid"))


TEN_YEARS = 10 * 365 * 24 * 3600


def test_a_user_token_whose_exp_is_ten_years_away_is_refused() -> None:
    # Signed with the real key: only the lifetime gives it away.
    with pytest.raises(TokenError, match="lives longer than 900 s"):
        verify_user(user_token(ttl_seconds=TEN_YEARS))


def test_a_user_token_living_exactly_the_configured_ttl_is_accepted() -> None:
    token = user_token(ttl_seconds=300)
    claims = verify_user_token(token, USER_KEY.public_key(), issuer=ISSUER, audience=AUDIENCE,
                               max_ttl_seconds=300)
    assert claims.user_id == USER_ID
    with pytest.raises(TokenError, match="lives longer than 299 s"):
        verify_user_token(token, USER_KEY.public_key(), issuer=ISSUER, audience=AUDIENCE,
                          max_ttl_seconds=299)


def verify_user_with_leeway(token: str, leeway: int) -> object:
    return verify_user_token(token, USER_KEY.public_key(), issuer=ISSUER, audience=AUDIENCE,
                             leeway_seconds=leeway)


def test_a_user_token_from_a_clock_a_second_ahead_needs_the_leeway() -> None:
    ahead = user_token(now=int(time.time()) + 2)  # issued "in the future" by a fast clock
    with pytest.raises(TokenError, match="iat"):
        verify_user_with_leeway(ahead, 0)
    assert verify_user_with_leeway(ahead, 5)
    with pytest.raises(TokenError, match="iat"):
        verify_user_with_leeway(user_token(now=int(time.time()) + 30), 5)


def test_a_user_token_just_expired_passes_within_the_leeway_only() -> None:
    just_expired = user_token(ttl_seconds=60, now=int(time.time()) - 62)
    with pytest.raises(TokenError, match="expired"):
        verify_user_with_leeway(just_expired, 0)
    assert verify_user_with_leeway(just_expired, 5)
    with pytest.raises(TokenError, match="expired"):
        verify_user_with_leeway(user_token(ttl_seconds=60, now=int(time.time()) - 70), 5)


def test_a_user_token_not_yet_valid_passes_within_the_leeway_only() -> None:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": USER_ID, "role": "enduser", "typ": "user",
              "iat": now, "exp": now + 900}
    soon = jwt.encode({**claims, "nbf": now + 2}, USER_KEY, algorithm="EdDSA")
    later = jwt.encode({**claims, "nbf": now + 30}, USER_KEY, algorithm="EdDSA")
    with pytest.raises(TokenError, match="not yet valid"):
        verify_user_with_leeway(soon, 0)
    assert verify_user_with_leeway(soon, 5)
    with pytest.raises(TokenError, match="not yet valid"):
        verify_user_with_leeway(later, 5)


def test_the_leeway_applies_to_service_tokens_too() -> None:
    ahead = service_token(ttl=30, now=int(time.time()) + 2)
    with pytest.raises(TokenError, match="iat"):
        verify_service_token(ahead, SERVICE_PUBLICS, audience="user")
    claims = verify_service_token(ahead, SERVICE_PUBLICS, audience="user", leeway_seconds=5)
    assert claims.caller == "product"
    just_expired = service_token(ttl=30, now=int(time.time()) - 32)
    assert verify_service_token(just_expired, SERVICE_PUBLICS, audience="user",
                                leeway_seconds=5)


@pytest.mark.parametrize(("token", "reason"), [
    ("abc", "not a well-formed signed JWT"),
    ("a.b.c", "not a well-formed signed JWT"),
    (lambda: user_token(ttl_seconds=60, now=int(time.time()) - 3600), "has expired (exp)"),
    (lambda: jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": USER_ID, "role": "enduser",
                         "typ": "user", "iat": int(time.time())}, USER_KEY, algorithm="EdDSA"),
     "has no exp claim"),
    (lambda: jwt.encode({"sub": USER_ID}, "k" * 32, algorithm="HS256"),
     "not signed with the algorithm its key uses"),
    (lambda: jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": USER_ID, "role": "enduser",
                         "typ": "user", "iat": int(time.time()), "exp": "tomorrow"},
                        USER_KEY, algorithm="EdDSA"),
     "exp claim is not a number"),
])
def test_a_refused_token_is_explained_in_the_shops_words_not_pyjwts(
        token: str | Callable[[], str], reason: str) -> None:
    # PyJWT's own wording ("Not enough segments", "Token is missing the \"exp\" claim")
    # reached clients as the 401's detail.
    with pytest.raises(TokenError) as refused:
        verify_user_with_leeway(token() if callable(token) else token, 0)
    assert reason in str(refused.value)
    assert "segments" not in str(refused.value) and "Token is" not in str(refused.value)
