"""Password hashing with argon2id, at OWASP's recommended minimum for this machine's size.

Parameters: 19 MiB of memory, 2 passes, 1 lane — the first row of the OWASP Password
Storage Cheat Sheet (https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id),
chosen by measuring the rows on two cores (`make bench`, footprint section). One lane,
because lanes beyond the cores only take turns; the least memory of the equivalent
rows, because concurrent logins each hold that much. argon2-cffi's default (64 MiB,
3 passes, 4 lanes, RFC 9106's second recommendation) cost six to twelve times as much
per hash here. Hashes made with other parameters still verify (the parameters are
in the hash); a login with one rehashes it with these (`needs_rehash`).
"""

from __future__ import annotations

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


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)
