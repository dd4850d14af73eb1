"""Cache-aside for catalog reads, in the product service's own Redis namespace.

Listing pages and single products (`GET /products`, `GET /products/{id}`) are cached
the same way, under different key parts, so one invalidation covers both: a product
write, an order's reservation and any restock (saga or sweeper) all call
`invalidate()` after their commit.

Invalidation is a namespace version: a write replaces it with a new random token
(one SET) after its commit and before its response. Every entry stores, in front of
its body, the version it was loaded under, and a read fetches the version and the
entry together (one MGET, so a hit is one round trip): a hit is an entry stored
under the current version. A reader that starts after a write's response reads the
new version, so it can only miss or hit entries filled after the write. Versions
are random, never a counter, so an old version never comes back (not even after the
version key lapses), and an entry of an old version never matches again; it is
overwritten by the next fill or expires on its TTL. No key is ever scanned.

A cold key is filled by one reader at a time (a short `SET NX` lock per key and
version); readers that find the lock taken wait for the value instead of also
querying the database. Any Redis failure degrades to a plain database read: the
cache is never a dependency.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import redis

from chalicelib import SERVICE
from shop_common.metrics import cache_request

log = logging.getLogger("shop.product.cache")

HIT = "HIT"
MISS = "MISS"
VERSION_TTL_SECONDS = 86400
SEPARATOR = b"\n"  # between the stored version (hex, no newline) and the body
# Compare-and-delete: only the reader that took the fill lock may release it.
RELEASE_LOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class Cached:
    body: str
    source: str  # HIT or MISS


class CatalogCache:
    def __init__(self, client: redis.Redis[bytes], namespace: str, *, ttl_seconds: int,
                 fill_lock_seconds: float = 5.0, wait_seconds: float = 3.0,
                 poll_seconds: float = 0.02) -> None:
        self._redis = client
        self._namespace = namespace
        self._ttl = ttl_seconds
        self._fill_lock_ms = int(fill_lock_seconds * 1000)
        self._wait = wait_seconds
        self._poll = poll_seconds

    @property
    def version_key(self) -> str:
        return self._namespace + "version"

    def key(self, *parts: str) -> str:
        return self._namespace + "entry:" + ":".join(parts)

    def invalidate(self) -> None:
        """Make every entry written so far unreachable; called after a write commits."""
        try:
            # The version may lapse once every entry it could match has expired.
            self._redis.set(self.version_key, uuid.uuid4().hex,
                            ex=max(VERSION_TTL_SECONDS, 10 * self._ttl))
        except redis.RedisError:
            # The write is committed and cannot be undone; entries of the current
            # version can now be stale until their TTL. Loud, because it is rare.
            log.error("catalog cache invalidation failed; entries may be stale until TTL",
                      extra={"ttl_seconds": self._ttl})

    def get_or_load(self, parts: tuple[str, ...], load: Callable[[], str]) -> Cached:
        """The cached body for `parts`, or `load()`'s, stored for the next reader."""
        key = self.key(*parts)
        try:
            version, body = self._read(key)
        except redis.RedisError:
            return self._load_without_cache(load)
        if body is not None:
            cache_request(SERVICE, "hit")
            return Cached(body, HIT)
        return self._fill(key, version, load)

    def _read(self, key: str) -> tuple[bytes, str | None]:
        """The current version, and the body at `key` if it was stored under that version."""
        version, entry = self._redis.mget(self.version_key, key)
        current = version or b""
        if entry is None:
            return current, None
        stored, _, body = entry.partition(SEPARATOR)
        return current, (body.decode() if stored == current else None)

    def _fill(self, key: str, version: bytes, load: Callable[[], str]) -> Cached:
        lock_key, token = f"{key}:fill:{version.decode()}", uuid.uuid4().hex
        try:
            got_lock = bool(self._redis.set(lock_key, token, nx=True, px=self._fill_lock_ms))
            # Another reader may have filled the key and released the lock between our
            # miss and our SET NX: check again before going to the database.
            filled = self._read(key)[1] if got_lock else None
        except redis.RedisError:
            return self._load_without_cache(load)
        if filled is not None:
            self._release(lock_key, token)
            cache_request(SERVICE, "hit")
            return Cached(filled, HIT)
        if not got_lock:
            waited = self._wait_for(key, lock_key)
            if waited is not None:
                cache_request(SERVICE, "hit")
                return Cached(waited, HIT)
        cache_request(SERVICE, "miss")
        try:
            body = load()
            self._store(key, version, body)
            return Cached(body, MISS)
        finally:
            if got_lock:
                self._release(lock_key, token)

    def _wait_for(self, key: str, lock_key: str) -> str | None:
        """The value another reader is filling, or None if it did not come in time."""
        deadline = time.monotonic() + self._wait
        try:
            while time.monotonic() < deadline:
                time.sleep(self._poll)
                body = self._read(key)[1]
                if body is not None:
                    return body
                if not self._redis.exists(lock_key):
                    # The filler gave up (its load failed): check once more, then load.
                    return self._read(key)[1]
        except redis.RedisError:
            return None
        return None

    def _store(self, key: str, version: bytes, body: str) -> None:
        # Stored under the version read before the load: if a write bumped it meanwhile,
        # this entry never matches, so a load that raced a write is never served.
        try:
            self._redis.set(key, version + SEPARATOR + body.encode(), ex=self._ttl)
        except redis.RedisError:
            log.warning("catalog cache write failed")

    def _release(self, lock_key: str, token: str) -> None:
        with contextlib.suppress(redis.RedisError):  # else the lock expires on its own
            self._redis.eval(RELEASE_LOCK, 1, lock_key, token)  # type: ignore[no-untyped-call]

    def _load_without_cache(self, load: Callable[[], str]) -> Cached:
        log.warning("catalog cache unavailable; reading the database")
        cache_request(SERVICE, "error")
        return Cached(load(), MISS)
