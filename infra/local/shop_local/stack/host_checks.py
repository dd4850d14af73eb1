"""Holes in the host's own PostgreSQL, Redis and RabbitMQ that the shop cannot close itself.

The set-up never changes another program's authentication (other software on the
host may rely on it); it says, in one line each, what is open and how to close it.
The README's "Security" section gives the steps.
"""

from __future__ import annotations

import contextlib
import ipaddress
import subprocess
from collections.abc import Sequence

import pg8000.native
import redis

from shop_local.stack import broker_users, redis_users

LOOPBACKS = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
EVERY_HOST = ("all", "samehost", "samenet")


def covers_loopback(address: str | None, netmask: str | None) -> bool:
    """Whether a pg_hba `host` line's address (and netmask) matches a loopback client."""
    if not address:
        return False
    if address in EVERY_HOST:
        return True
    try:
        network = ipaddress.ip_network(f"{address}/{netmask}" if netmask else address,
                                       strict=False)
    except ValueError:
        return address == "localhost"  # a host name
    return any(ip.version == network.version and ip in network for ip in LOOPBACKS)


def trusted_loopback_lines(rules: Sequence[Sequence[object]]) -> list[int]:
    """pg_hba lines (line_number, type, address, netmask, auth_method) trusting local clients."""
    found = []
    for line, kind, address, netmask, method in rules:
        if method != "trust":
            continue
        if kind == "local" or covers_loopback(
                str(address) if address else None, str(netmask) if netmask else None):
            found.append(int(str(line)))
    return found


def postgres_warning(admin: pg8000.native.Connection) -> str | None:
    """The warning when pg_hba.conf trusts local clients (a `local` line, or a `host` line
    covering 127.0.0.1 or ::1, with method `trust`), naming its line numbers; None when none
    does. Reads `pg_hba_file_rules`, which needs a superuser: DatabaseError otherwise.
    """
    rules = admin.run("SELECT line_number, type, address, netmask, auth_method "
                      "FROM pg_hba_file_rules WHERE error IS NULL ORDER BY line_number")
    lines = trusted_loopback_lines(rules)
    if not lines:
        return None
    numbers = ", ".join(str(n) for n in lines)
    return (f"PostgreSQL trusts local connections (pg_hba.conf line {numbers}): anyone on "
            "this machine can connect as any role, the shop's included; set those lines' "
            "method to scram-sha-256 and reload PostgreSQL (README: Security)")


def redis_warning(admin: redis_users.RedisClient) -> str | None:
    """The warning when Redis' `default` user needs no password and may run every command; None
    otherwise. RedisError when the server cannot be asked.
    """
    if not redis_users.default_user_is_open(admin):
        return None
    return ("Redis' default user needs no password and may run every command: anyone on "
            "this machine can read and change every service's keys; set `requirepass` "
            "in redis.conf and put the password in SHOP_REDIS_ADMIN_URL (README: Security)")


def rabbitmq_warning(user: str = "guest", password: str = "guest") -> str | None:  # noqa: S107
    """The warning when RabbitMQ still accepts `user` with `password` (by default
    `guest`/`guest`, the broker's well-known account); None otherwise. OSError or
    SubprocessError when `rabbitmqctl` cannot run.
    """
    if not broker_users.accepts_password(user, password):
        return None
    return (f"RabbitMQ's {user!r} user still has its well-known password: it cannot reach the "
            f"shop's vhost, but anyone on this machine can use the broker as it; "
            f"`rabbitmqctl delete_user {user}` (README: Security)")


def host_warnings(pg_admin: pg8000.native.Connection | None,
                  redis_admin: redis_users.RedisClient | None) -> list[str]:
    """One line per hole found; a check that cannot run is skipped, never fatal."""
    found: list[str | None] = []
    # pg_hba_file_rules needs a superuser: without one there is nothing to say.
    if pg_admin is not None:
        with contextlib.suppress(pg8000.native.DatabaseError):
            found.append(postgres_warning(pg_admin))
    if redis_admin is not None:
        with contextlib.suppress(redis.RedisError):
            found.append(redis_warning(redis_admin))
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        found.append(rabbitmq_warning())
    return [line for line in found if line]
