"""Login throttling: growing delays after failed logins, never a lock a stranger can impose.

Follows the OWASP Authentication Cheat Sheet ("Login Throttling", "Account Lockout",
https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html):
failures are counted in three scopes, each allowing some free failures and then
making the next attempt wait, the wait doubling with each further failure up to a cap:

- the account *from this client address* (5 free, then 1 s, 2 s, 4 s … up to 15 min):
  someone guessing one account from one place slows down fast, and only there;
- the client address, whatever the account (20 free, same delays): one address
  trying many accounts (credential stuffing) slows down;
- the account from anywhere (20 free, capped at 60 s): guessing spread over many
  addresses slows down too. An address that logged into the account in the last
  30 days does not wait for this scope, so strangers can delay the account for
  strangers only; its owner at a known address is never held up by them.

A delay is a 429 with `Retry-After`, answered before any password is hashed. Counters
forget failures `login_failure_window_seconds` after the last one, and a successful
login clears the account's two scopes. Nothing locks an account for everybody.

Counting is atomic (one Lua script per step): an attempt is counted as a failure when
it is let through, so a burst of concurrent guesses cannot all pass the check before
the first failure is recorded; a success or an attempt that ended for another reason
(the database was down) gives it back.

With Redis down the delays are not enforced (fail open, logged): refusing every login
because the cache is down would be a worse outage. Hashing stays bounded meanwhile
by the per-client request limit, which falls back to a per-process count
(chalicelib/client_limit.py).
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass

import redis

from shop_common.cache import RedisClient
from shop_common.config import Settings

log = logging.getLogger(__name__)

KNOWN_CLIENT_SECONDS = 30 * 24 * 3600

_TIME_MS = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
"""
# Takes back one counted failure of a scope, and opens its gate if the scope is now
# within its free failures.
_GIVE_BACK = """
local function give_back(key, free)
  local failures = tonumber(redis.call('HGET', key, 'n') or '0')
  if failures > 0 then failures = redis.call('HINCRBY', key, 'n', -1) end
  if failures < free then redis.call('HDEL', key, 'until') end
end
"""
# KEYS: pair, account, client, known-marker. ARGV: base delay ms, window s, then free
# failures and delay cap ms for pair, account, client. Returns ms to wait, or 0 when
# the attempt may go ahead (it is then counted as a failure in every scope).
CLAIM_ATTEMPT = _TIME_MS + """
local known = redis.call('EXISTS', KEYS[4]) == 1
local wait = 0
for i = 1, 3 do
  if not (i == 2 and known) then
    local gate = tonumber(redis.call('HGET', KEYS[i], 'until') or '0')
    if gate - now > wait then wait = gate - now end
  end
end
if wait > 0 then return wait end
local base = tonumber(ARGV[1])
for i = 1, 3 do
  local free, cap = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  local failures = redis.call('HINCRBY', KEYS[i], 'n', 1)
  if failures >= free then
    local delay = math.min(cap, base * 2 ^ (failures - free))
    local gate = tonumber(redis.call('HGET', KEYS[i], 'until') or '0')
    redis.call('HSET', KEYS[i], 'until', math.max(gate, now + math.floor(delay)))
  end
  redis.call('EXPIRE', KEYS[i], ARGV[2])
end
return 0
"""
# KEYS: pair, account, client. ARGV: their free failures.
RELEASE_ATTEMPT = _GIVE_BACK + """
for i, key in ipairs(KEYS) do give_back(key, tonumber(ARGV[i])) end
return 0
"""
# KEYS: pair, account, client, known-marker. ARGV: the client's free failures, the
# marker's lifetime in s. The account's scopes are cleared; the client's only gets its
# attempt back (logging into one's own account must not wipe an address's record of
# guessing others).
SUCCEEDED = _GIVE_BACK + """
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SET', KEYS[4], '1', 'EX', ARGV[2])
give_back(KEYS[3], tonumber(ARGV[1]))
return 0
"""


@dataclass(frozen=True)
class LoginPolicy:
    free_failures: int = 5
    account_free_failures: int = 20
    client_free_failures: int = 20
    delay_base_seconds: float = 1.0
    delay_max_seconds: int = 900
    account_delay_max_seconds: int = 60
    failure_window_seconds: int = 3600

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginPolicy:
        return cls(
            free_failures=settings.login_free_failures,
            account_free_failures=settings.login_account_free_failures,
            client_free_failures=settings.login_client_free_failures,
            delay_base_seconds=settings.login_delay_base_seconds,
            delay_max_seconds=settings.login_delay_max_seconds,
            account_delay_max_seconds=settings.login_account_delay_max_seconds,
            failure_window_seconds=settings.login_failure_window_seconds,
        )


def digest(*parts: str) -> str:
    # Hashed so the cache never holds a list of email or client addresses.
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:40]


class LoginThrottle:
    """Delays for failed logins of `email` (canonical) from client address `client`."""

    def __init__(self, client: RedisClient, namespace: str, policy: LoginPolicy) -> None:
        self._redis = client
        self._prefix = f"{namespace}login:"
        self._policy = policy
        self._claim = client.register_script(CLAIM_ATTEMPT)
        self._release = client.register_script(RELEASE_ATTEMPT)
        self._succeeded = client.register_script(SUCCEEDED)

    def _keys(self, email: str, client: str) -> tuple[str, str, str, str]:
        return (f"{self._prefix}pair:{digest(email, client)}",
                f"{self._prefix}account:{digest(email)}",
                f"{self._prefix}client:{digest(client)}",
                f"{self._prefix}known:{digest(email, client)}")

    def claim_attempt(self, email: str, client: str) -> int:
        """0 when the attempt may go ahead (and counts as a failure until `succeeded` or
        `release`), else the whole seconds to wait before the next one."""
        policy = self._policy
        try:
            wait_ms = self._claim(keys=list(self._keys(email, client)), args=[
                int(policy.delay_base_seconds * 1000), policy.failure_window_seconds,
                policy.free_failures, policy.delay_max_seconds * 1000,
                policy.account_free_failures, policy.account_delay_max_seconds * 1000,
                policy.client_free_failures, policy.delay_max_seconds * 1000,
            ])
        except redis.RedisError:
            log.warning("login throttle unavailable; allowing the attempt")
            return 0
        return math.ceil(int(wait_ms) / 1000)

    def succeeded(self, email: str, client: str) -> None:
        try:
            self._succeeded(keys=list(self._keys(email, client)),
                            args=[self._policy.client_free_failures, KNOWN_CLIENT_SECONDS])
        except redis.RedisError:
            log.warning("login throttle unavailable; failures not cleared")

    def release(self, email: str, client: str) -> None:
        """Give back an attempt that ended for another reason than a wrong password."""
        policy = self._policy
        try:
            self._release(keys=list(self._keys(email, client)[:3]), args=[
                policy.free_failures, policy.account_free_failures, policy.client_free_failures])
        except redis.RedisError:
            log.warning("login throttle unavailable; attempt not given back")
