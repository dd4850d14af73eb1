"""A per-client limit on the requests that hash a password (login and sign-up).

Each costs an argon2 hash (~100 ms of CPU by design), so without a limit one client
sending logins for random emails slows every sign-up and login down. A client address
(API Gateway's `requestContext.identity.sourceIp`) may send so many per minute; past
that it gets a 429 with `Retry-After` before its body is even read. The OWASP
Authentication Cheat Sheet's "Login Throttling" asks for this next to per-account
measures (chalicelib/throttle.py).

The count is a fixed one-minute window in Redis, shared by every instance. With Redis
down each process keeps the same count for itself, so the hashing an address can
cause stays bounded (per process instead of overall) and logins keep working.
"""

from __future__ import annotations

import logging
import math
import threading
import time

import redis

from chalicelib.throttle import digest
from shop_common.cache import RedisClient

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# Counts a request; returns 0 when it is within the limit, else the window's seconds left.
COUNT_REQUEST = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
if count > tonumber(ARGV[1]) then return ttl end
return 0
"""
# Windows kept in memory while Redis is down, at most; older ones are dropped first.
MAX_LOCAL_CLIENTS = 10_000


class LocalWindows:
    """The same fixed windows, in this process only."""

    def __init__(self, limit: int, window_seconds: int) -> None:
        self._limit, self._window = limit, window_seconds
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}  # client → (window number, count)

    def count(self, client: str, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        window = int(now // self._window)
        with self._lock:
            if len(self._counts) >= MAX_LOCAL_CLIENTS:
                self._counts = {c: v for c, v in self._counts.items() if v[0] == window}
            seen_window, seen = self._counts.get(client, (window, 0))
            count = seen + 1 if seen_window == window else 1
            self._counts[client] = (window, count)
        if count <= self._limit:
            return 0
        return max(1, math.ceil((window + 1) * self._window - now))


class ClientRateLimit:
    def __init__(self, client: RedisClient, namespace: str, per_minute: int) -> None:
        self._prefix = f"{namespace}auth-requests:"
        self._limit = per_minute
        self._count = client.register_script(COUNT_REQUEST)
        self._local = LocalWindows(per_minute, WINDOW_SECONDS)

    def wait_seconds(self, client: str) -> int:
        """Count a request from `client`: 0 when it may go ahead, else seconds to wait."""
        try:
            return int(self._count(keys=[self._prefix + digest(client)],
                                   args=[self._limit, WINDOW_SECONDS]))
        except redis.RedisError:
            log.warning("client limit: Redis unavailable; counting in this process")
            return self._local.count(client)
