"""Login throttling: too many wrong passwords for one account locks it out for a while.

Counters live in Redis with a TTL, so every instance of the function shares them.
If Redis is down the throttle fails open (and says so in the log): refusing every
login because the cache is down would be a worse outage than a slower brute force.
"""

from __future__ import annotations

import hashlib
import logging

import redis

from shop_common.cache import RedisClient

log = logging.getLogger(__name__)


class LoginThrottle:
    def __init__(self, client: RedisClient, namespace: str, max_failures: int,
                 lockout_seconds: int) -> None:
        self._redis = client
        self._namespace = namespace
        self._max_failures = max_failures
        self._lockout_seconds = lockout_seconds

    def _key(self, email: str) -> str:
        # Hashed so the cache never holds a list of email addresses.
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        return f"{self._namespace}login-failures:{digest}"

    def seconds_locked(self, email: str) -> int:
        """How long this account is still locked out; 0 when it may try."""
        try:
            key = self._key(email)
            failures = self._redis.get(key)
            if failures is None or int(failures) < self._max_failures:
                return 0
            return max(1, int(self._redis.ttl(key)))
        except redis.RedisError:
            log.warning("login throttle unavailable; allowing the attempt")
            return 0

    def record_failure(self, email: str) -> None:
        try:
            key = self._key(email)
            with self._redis.pipeline() as pipe:
                pipe.incr(key)
                pipe.expire(key, self._lockout_seconds)
                pipe.execute()
        except redis.RedisError:
            log.warning("login throttle unavailable; failure not counted")

    def reset(self, email: str) -> None:
        try:
            self._redis.delete(self._key(email))
        except redis.RedisError:
            log.warning("login throttle unavailable; counter not reset")
