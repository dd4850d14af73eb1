"""Cache-aside for catalog reads, in the product service's own Redis namespace.

Listing pages and single products (`GET /products`, `GET /products/{id}`) are cached
the same way, under different key parts, so one invalidation covers both: a product
write, an order's reservation and any restock (saga or sweeper) all call
`invalidate()` after their commit.

Invalidation is a namespace version: every key embeds the current version, and a
write bumps it (one INCR) after its commit and before its response. A reader that
starts after the response therefore reads the new version and can only miss or hit
entries filled after the bump; entries of older versions are never read again and
expire on their TTL. No key is ever scanned.

A cold key is filled by one reader at a time (a short `SET NX` lock); readers that
find the lock taken wait for the value instead of also querying the database. Any
Redis failure degrades to a plain database read: the cache is never a dependency.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import redis

from shop_common.metrics import cache_request

log = logging.getLogger("shop.product.cache")

SERVICE = "product"
HIT = "HIT"
MISS = "MISS"
VERSION_TTL_SECONDS = 86400
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

    def key(self, version: int, *parts: str) -> str:
        return self._namespace + f"v{version}:" + ":".join(parts)

    def invalidate(self) -> None:
        """Make every entry written so far unreachable; called after a write commits."""
        try:
            with self._redis.pipeline() as pipe:
                pipe.incr(self.version_key)
                # The version may lapse once every entry it could point at has expired:
                # restarting from 0 then reads nothing stale, and no key lives forever.
                pipe.expire(self.version_key, max(VERSION_TTL_SECONDS, 10 * self._ttl))
                pipe.execute()
        except redis.RedisError:
            # The write is committed and cannot be undone; entries of the current
            # version can now be stale until their TTL. Loud, because it is rare.
            log.error("catalog cache invalidation failed; entries may be stale until TTL",
                      extra={"ttl_seconds": self._ttl})

    def get_or_load(self, parts: tuple[str, ...], load: Callable[[], str]) -> Cached:
        """The cached body for `parts`, or `load()`'s, stored for the next reader."""
        try:
            version = int(self._redis.get(self.version_key) or 0)
            key = self.key(version, *parts)
            body = self._redis.get(key)
        except redis.RedisError:
            return self._load_without_cache(load)
        if body is not None:
            cache_request(SERVICE, "hit")
            return Cached(body.decode(), HIT)
        return self._fill(key, load)

    def _fill(self, key: str, load: Callable[[], str]) -> Cached:
        lock_key, token = key + ":fill", uuid.uuid4().hex
        try:
            got_lock = bool(self._redis.set(lock_key, token, nx=True, px=self._fill_lock_ms))
            # Another reader may have filled the key and released the lock between our
            # miss and our SET NX: check again before going to the database.
            filled = self._redis.get(key) if got_lock else None
        except redis.RedisError:
            return self._load_without_cache(load)
        if filled is not None:
            self._release(lock_key, token)
            cache_request(SERVICE, "hit")
            return Cached(filled.decode(), HIT)
        if not got_lock:
            waited = self._wait_for(key, lock_key)
            if waited is not None:
                cache_request(SERVICE, "hit")
                return Cached(waited, HIT)
        cache_request(SERVICE, "miss")
        try:
            body = load()
            self._store(key, body)
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
                body = self._redis.get(key)
                if body is not None:
                    return body.decode()
                if not self._redis.exists(lock_key):
                    # The filler gave up (its load failed): check once more, then load.
                    body = self._redis.get(key)
                    return body.decode() if body is not None else None
        except redis.RedisError:
            return None
        return None

    def _store(self, key: str, body: str) -> None:
        try:
            self._redis.set(key, body, ex=self._ttl)
        except redis.RedisError:
            log.warning("catalog cache write failed")

    def _release(self, lock_key: str, token: str) -> None:
        with contextlib.suppress(redis.RedisError):  # else the lock expires on its own
            self._redis.eval(RELEASE_LOCK, 1, lock_key, token)  # type: ignore[no-untyped-call]

    def _load_without_cache(self, load: Callable[[], str]) -> Cached:
        log.warning("catalog cache unavailable; reading the database")
        cache_request(SERVICE, "error")
        return Cached(load(), MISS)
