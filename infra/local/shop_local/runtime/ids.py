"""Random identifiers the local runtime stamps on requests and invocations.

Request ids (UUID version 4, RFC 9562 §5.4), API Gateway's `extendedRequestId` and X-Ray
trace ids are labels, not secrets: they come from the `random` module (reseeded in a
forked child), not from the operating system's CSPRNG, because every request needs
several of them and a `getrandom` system call each was a measurable part of the
gateway's per-request cost.
"""

from __future__ import annotations

import base64
import random

_VERSION_4 = 0x4000 << 64  # version nibble of a UUID as a 128-bit integer
_VARIANT_RFC = 0x8000 << 48  # variant bits 10xx
_CLEARED = ~((0xF000 << 64) | (0xC000 << 48))


def random_hex(nbytes: int) -> str:
    """`nbytes` random bytes as lower-case hex (2 * nbytes characters)."""
    return f"{random.getrandbits(nbytes * 8):0{nbytes * 2}x}"


def request_id() -> str:
    """A random UUID (version 4) in its 36-character form, as `str(uuid.uuid4())`."""
    text = f"{(random.getrandbits(128) & _CLEARED) | _VERSION_4 | _VARIANT_RFC:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def base64_id(nbytes: int) -> str:
    """`nbytes` random bytes, base64-encoded (API Gateway's `extendedRequestId` uses 11)."""
    return base64.b64encode(random.randbytes(nbytes)).decode()
