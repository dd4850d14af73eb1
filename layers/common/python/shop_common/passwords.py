"""Password hashing with argon2id, at OWASP's recommended minimum for this machine's size.

Parameters: 19 MiB of memory, 2 passes, 1 lane — the first row of the OWASP Password
Storage Cheat Sheet (https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id),
chosen by measuring the rows on two cores (`make bench`, footprint section). One lane,
because lanes beyond the cores only take turns; the least memory of the equivalent
rows, because concurrent logins each hold that much. argon2-cffi's default (64 MiB,
3 passes, 4 lanes, RFC 9106's second recommendation) cost six to twelve times as much
per hash here. Hashes made with other parameters still verify (the parameters are
in the hash); a login with one rehashes it with these (`needs_rehash`).

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


MEMORY_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM)


def hash_parameters() -> str:
    """The parameters new hashes get, as "m=<MiB> MiB t=<passes> p=<lanes>"."""
    return f"m={MEMORY_KIB // 1024} MiB t={TIME_COST} p={PARALLELISM}"


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash(_DUMMY_PASSWORD)


def normalize_password(password: str) -> str:
    """`password` in Unicode NFKC, as NIST SP 800-63B §5.1.1.2 recommends."""
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """An argon2id hash (PHC string) of the NFKC-normalised `password`."""
    return _hasher().hash(normalize_password(password))


@dataclass(frozen=True)
class PasswordCheck:
    """The result of `check_password`: whether it matched, and whether to rehash."""

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
    """Whether `password` matches `password_hash` (None never matches, in the same time)."""
    return check_password(password_hash, password).valid
