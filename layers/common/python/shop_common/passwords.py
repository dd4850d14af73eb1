"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106).

Passwords are NFKC-normalised before they are hashed or checked, as NIST SP 800-63B
§5.1.1.2 recommends (https://pages.nist.gov/800-63-3/sp800-63b.html#sec5): a password
typed as NFC on one device and NFD on another is the same password. Hashes stored
before this normalisation hold the password as it was typed; they still verify (the
typed form is tried when the normalised one fails) and are replaced by a normalised
hash at the next successful login.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Verifying against this when the account does not exist keeps login time the
# same for known and unknown emails, so timing does not reveal who is registered.
_DUMMY_PASSWORD = "not-a-real-password-but-long-enough"  # noqa: S105


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash(_DUMMY_PASSWORD)


def normalize_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return _hasher().hash(normalize_password(password))


@dataclass(frozen=True)
class PasswordCheck:
    valid: bool
    # The stored hash should be replaced by hash_password(password): its parameters are
    # outdated, or it was made before passwords were normalised.
    rehash: bool = False


def _matches(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def check_password(password_hash: str | None, password: str) -> PasswordCheck:
    """Whether `password` matches; `password_hash` None costs the same time and fails."""
    normalized = normalize_password(password)
    if _matches(password_hash, normalized):
        assert password_hash is not None
        return PasswordCheck(True, rehash=_hasher().check_needs_rehash(password_hash))
    if normalized != password and _matches(password_hash, password):
        return PasswordCheck(True, rehash=True)  # a hash of the typed, unnormalised form
    return PasswordCheck(False)


def verify_password(password_hash: str | None, password: str) -> bool:
    return check_password(password_hash, password).valid
