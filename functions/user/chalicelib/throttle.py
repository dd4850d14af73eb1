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

# Counts an attempt and says whether it may go ahead, in one atomic step. Checking the
# count and counting a failure separately let any number of concurrent guesses pass
# the check before the first failure was counted. Returns 0 (go ahead) or the seconds
# the account stays locked; a refused attempt neither counts nor extends the lock.
CLAIM_ATTEMPT = """
local attempts = redis.call('incr', KEYS[1])
if attempts <= tonumber(ARGV[1]) then
  redis.call('expire', KEYS[1], ARGV[2])
  return 0
end
redis.call('decr', KEYS[1])
local ttl = redis.call('ttl', KEYS[1])
if ttl == -1 then
  redis.call('expire', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
if ttl < 1 then ttl = 1 end
return ttl
"""
# Gives back an attempt that ended for another reason than a wrong password.
RELEASE_ATTEMPT = """
local attempts = tonumber(redis.call('get', KEYS[1]) or '0')
if attempts > 0 then redis.call('decr', KEYS[1]) end
return 0
"""


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

    def claim_attempt(self, email: str) -> int:
        """Count an attempt that may go ahead (0), or say how long the account is locked.

        The attempt counts as a failure until `reset` (it succeeded) or `release` (it
        ended for another reason).
        """
        try:
            result = self._redis.eval(  # type: ignore[no-untyped-call]
                CLAIM_ATTEMPT, 1, self._key(email), self._max_failures, self._lockout_seconds
            )
            return int(result)
        except redis.RedisError:
            log.warning("login throttle unavailable; allowing the attempt")
            return 0

    def release(self, email: str) -> None:
        try:
            self._redis.eval(RELEASE_ATTEMPT, 1, self._key(email))  # type: ignore[no-untyped-call]
        except redis.RedisError:
            log.warning("login throttle unavailable; attempt not released")

    def reset(self, email: str) -> None:
        try:
            self._redis.delete(self._key(email))
        except redis.RedisError:
            log.warning("login throttle unavailable; counter not reset")
