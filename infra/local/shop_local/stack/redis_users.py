"""Redis ACL users: one per service, limited to its key prefix and to what a cache needs.

A service's user (https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/)
may touch only keys under its prefix (`~shop:user:*`), no Pub/Sub channel, and no
command that reaches beyond its own keys: `-@dangerous` removes KEYS, FLUSHALL,
FLUSHDB, CONFIG, INFO, CLIENT KILL, DEBUG, ACL changes and the like; scripting is cut
down to running scripts on declared keys (EVAL/EVALSHA, SCRIPT LOAD/EXISTS — SCRIPT
FLUSH and FUNCTION would change every tenant's scripts); SCAN, RANDOMKEY and DBSIZE
would list or count other services' keys (the ACL filters no reply), MOVE and SWAPDB
would move keys between logical databases. What the services run — GET, SET (NX, PX,
EX), INCR, EXPIRE, TTL, DEL, EXISTS, MULTI/EXEC, EVAL, PING, SELECT — stays allowed.

Users are (re)created with `ACL SETUSER <name> reset ...`, so a run always leaves
exactly these rules and the current password. The ACL lives in the server's memory:
a Redis that restarts without an ACL file forgets it until the next `shop setup`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

import redis

if TYPE_CHECKING:
    RedisClient = redis.Redis[bytes]
else:
    RedisClient = redis.Redis

SERVICE_COMMANDS = (
    "+@all", "-@dangerous", "-@pubsub",
    "-@scripting", "+eval", "+evalsha", "+eval_ro", "+evalsha_ro",
    "+script|load", "+script|exists",
    "-scan", "-randomkey", "-dbsize", "-move",
)
GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")


@dataclass(frozen=True)
class RedisUser:
    """A service's Redis ACL user: its name, its password and the key prefix it is confined to
    (`shop:<service>:`).
    """
    name: str
    password: str
    key_prefix: str

    @classmethod
    def from_url(cls, redis_url: str, key_prefix: str) -> RedisUser:
        """The user and password a Redis URL names; ValueError when it names none."""
        parts = urlsplit(redis_url)
        if not parts.username or not parts.password:
            raise ValueError("the Redis URL names no user and password")
        return cls(unquote(parts.username), unquote(parts.password), key_prefix)

    def rules(self) -> list[str]:
        """The `ACL SETUSER` rules after the name: every previous rule reset first."""
        return ["reset", "on", f">{self.password}", f"~{key_pattern(self.key_prefix)}",
                "resetchannels", *SERVICE_COMMANDS]


def key_pattern(key_prefix: str) -> str:
    """The glob (ACL key pattern, SCAN MATCH) of every key starting with `key_prefix`."""
    return GLOB_SPECIAL.sub(r"\\\1", key_prefix) + "*"


def database_of(redis_url: str) -> int:
    """The logical database a Redis URL names in its path (`redis://…/2` is 2; none is 0).
    ValueError when the path is not a database number.
    """
    path = urlsplit(redis_url).path.strip("/")
    if path and not (path.isascii() and path.isdigit()):
        raise ValueError(f"{path!r} is not a database number")
    return int(path) if path else 0


def admin_client(admin_url: str, database: int | None = None) -> RedisClient:
    """A client of the Redis administrator, in `database` instead of the URL's when given."""
    if database is not None:
        admin_url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{database}"))
    return redis.Redis.from_url(admin_url, socket_connect_timeout=5, socket_timeout=5)


def delete_keys(admin_url: str, database: int, key_prefix: str) -> int:
    """Delete every key under `key_prefix` in `database`, as the administrator; the count.

    SCAN walks the keyspace in batches, so a large database is not blocked (KEYS would).
    """
    admin = admin_client(admin_url, database)
    try:
        removed = 0
        batch: list[bytes] = []
        for key in admin.scan_iter(match=key_pattern(key_prefix), count=500):
            batch.append(key)
            if len(batch) == 500:
                removed += int(admin.delete(*batch))
                batch = []
        if batch:
            removed += int(admin.delete(*batch))
        return removed
    finally:
        admin.close()


def ensure_user(admin: RedisClient, user: RedisUser) -> None:
    """Create or replace the ACL user with exactly `user.rules()` (`ACL SETUSER`,
    https://redis.io/docs/latest/commands/acl-setuser/). RedisError when the administrator
    may not.
    """
    admin.execute_command("ACL", "SETUSER", user.name, *user.rules())


def delete_user(admin: RedisClient, name: str) -> bool:
    """Delete the ACL user `name` (`ACL DELUSER`; a missing user is not an error): True when
    it existed. Its open connections are closed by the server. RedisError when the
    administrator may not.
    """
    return int(admin.execute_command("ACL", "DELUSER", name)) > 0


def default_user_is_open(admin: RedisClient) -> bool:
    """Whether Redis' `default` user logs in without a password and may run anything."""
    described: dict[bytes, Any] = admin.execute_command("ACL", "GETUSER", "default") or {}
    flags = {bytes(flag).decode() for flag in described.get(b"flags", [])}
    commands = bytes(described.get(b"commands", b"")).decode()
    return "on" in flags and "nopass" in flags and commands.split(" ", 1)[0] == "+@all"
