"""RabbitMQ users: one per service, allowed only what that service does.

RabbitMQ checks three permissions on every resource of a vhost — configure (declare,
delete), write (publish to an exchange, bind a queue) and read (consume from a queue,
bind from an exchange) — and, on topic exchanges, topic permissions matched against the
routing key of a publish (write) and the binding key of a bind (read)
(https://www.rabbitmq.com/docs/access-control). Each regex below must match the whole
name, so `^$` grants nothing.

- a publisher (user, order): write on `shop.events` only, and there only its own
  routing keys (topic write `^order\\.placed$`); no configure and no read, so it can
  neither declare nor bind a queue, and reads no one's events;
- a consumer (the communication app's event-source mappings): read on its mapped
  queues only, and write on the dead-letter exchange `shop.dlx`, so a function can park
  a message that can never succeed in `<queue>.dlq`; nothing else;
- a service that does neither (product): may open a connection (its health check).

Exchanges, queues and bindings are declared by the set-up alone, as a temporary
administrator it creates and deletes around that step (`temporary_administrator`);
no standing account can change the topology. Users are changed with `rabbitmqctl`,
the password passed on standard input, never on a command line where `ps` shows it.
"""

from __future__ import annotations

import re
import secrets
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from shop_common.messaging import DEAD_LETTER_EXCHANGE, EXCHANGE, vhost_of
from shop_local.mappings import MappingFile

NOTHING = "^$"
EVERYTHING = ".*"
RABBITMQCTL_TIMEOUT_SECONDS = 60


def rabbitmqctl(*args: str, stdin: str | None = None) -> str:
    """Run `rabbitmqctl -q ARGS` on this host's node; raise CalledProcessError on failure."""
    result = subprocess.run(
        ["rabbitmqctl", "-q", *args], input=stdin, capture_output=True, text=True,
        timeout=RABBITMQCTL_TIMEOUT_SECONDS, check=True,
    )
    return result.stdout


def exactly(names: Iterable[str]) -> str:
    """A permission regex matching exactly these names (none: `^$`)."""
    escaped = [re.escape(name) for name in names]
    return f"^({'|'.join(escaped)})$" if escaped else NOTHING


@dataclass(frozen=True)
class BrokerGrant:
    """What one user may do in its vhost; `topic_*` apply to routing keys on shop.events."""

    configure: str = NOTHING
    write: str = NOTHING
    read: str = NOTHING
    topic_write: str = NOTHING
    topic_read: str = NOTHING


ADMINISTRATOR = BrokerGrant(EVERYTHING, EVERYTHING, EVERYTHING, EVERYTHING, EVERYTHING)


def grant_for(service: str, mappings: MappingFile) -> BrokerGrant:
    """The least a service needs: publish its own routing keys, read its own queues."""
    publishes = mappings.publishers.get(service, [])
    queues = sorted({m.queue for m in mappings.for_app(service)})
    exchanges = ([EXCHANGE] if publishes else []) + ([DEAD_LETTER_EXCHANGE] if queues else [])
    return BrokerGrant(write=exactly(exchanges), read=exactly(queues),
                       topic_write=exactly(publishes))


@dataclass(frozen=True)
class BrokerUser:
    """A RabbitMQ user: its name, password and the one vhost it is granted on."""
    name: str
    password: str
    vhost: str

    @classmethod
    def from_url(cls, amqp_url: str) -> BrokerUser:
        """The user, password and vhost an AMQP URL names; ValueError when it names no user."""
        parts = urlsplit(amqp_url)
        if not parts.username or parts.password is None:
            raise ValueError(f"the broker URL for vhost {vhost_of(amqp_url)!r} names no user "
                             "and password")
        return cls(unquote(parts.username), unquote(parts.password), vhost_of(amqp_url))

    def url(self, host: str = "127.0.0.1", port: int = 5672) -> str:
        """The user's AMQP URL at `host:port` (user, password and vhost percent-encoded), e.g.
        `amqp://shop-user:…@127.0.0.1:5672/shop`.
        """
        return (f"amqp://{quote(self.name, safe='')}:{quote(self.password, safe='')}"
                f"@{host}:{port}/{quote(self.vhost, safe='')}")


def vhost_exists(vhost: str) -> bool:
    """Whether the broker has `vhost`. CalledProcessError or TimeoutExpired when `rabbitmqctl`
    fails.
    """
    return vhost in rabbitmqctl("list_vhosts", "name").splitlines()


def ensure_vhost(vhost: str) -> None:
    """Create `vhost` unless it exists (idempotent). CalledProcessError when `rabbitmqctl`
    fails.
    """
    if not vhost_exists(vhost):
        rabbitmqctl("add_vhost", vhost)


def delete_vhost(vhost: str) -> bool:
    """Delete `vhost` with its queues, exchanges, bindings and permissions, if it exists: True
    when it did; the default vhost `/` is never deleted. CalledProcessError when
    `rabbitmqctl` fails.
    """
    if vhost == "/" or not vhost_exists(vhost):
        return False
    rabbitmqctl("delete_vhost", vhost)
    return True


def ensure_user(user: BrokerUser, grant: BrokerGrant) -> None:
    """Create the user or set its password, then set exactly `grant` on its vhost (idempotent)."""
    try:
        rabbitmqctl("add_user", user.name, stdin=user.password + "\n")
    except subprocess.CalledProcessError as exc:
        if "already exists" not in f"{exc.stdout}{exc.stderr}":
            raise
        rabbitmqctl("change_password", user.name, stdin=user.password + "\n")
    rabbitmqctl("set_permissions", "-p", user.vhost, user.name,
                grant.configure, grant.write, grant.read)
    # Without a topic permission on an exchange RabbitMQ allows every routing key there,
    # so one is always set, even when the user may not write to the exchange at all.
    rabbitmqctl("set_topic_permissions", "-p", user.vhost, user.name, EXCHANGE,
                grant.topic_write, grant.topic_read)


def delete_user(name: str) -> None:
    """Delete a user if it exists."""
    try:
        rabbitmqctl("delete_user", name)
    except subprocess.CalledProcessError as exc:
        if "does not exist" not in f"{exc.stdout}{exc.stderr}" and \
                "no_such_user" not in f"{exc.stdout}{exc.stderr}":
            raise


def revoke_vhost_access(vhost: str, user: str) -> bool:
    """Take every permission `user` has on `vhost`; True when it had some."""
    listed = rabbitmqctl("list_permissions", "-p", vhost)
    if not any(line.split("\t", 1)[0] == user for line in listed.splitlines()):
        return False
    rabbitmqctl("clear_permissions", "-p", vhost, user)
    return True


def accepts_password(user: str, password: str) -> bool:
    """Whether the broker would let `user` in with `password` (nothing is changed)."""
    result = subprocess.run(
        ["rabbitmqctl", "-q", "authenticate_user", user], input=password + "\n",
        capture_output=True, text=True, timeout=RABBITMQCTL_TIMEOUT_SECONDS, check=False,
    )
    return result.returncode == 0


@contextmanager
def temporary_administrator(vhost: str, host: str = "127.0.0.1",
                            port: int = 5672) -> Iterator[str]:
    """An administrator of `vhost` for the length of the block; yields its AMQP URL."""
    admin = BrokerUser(f"shop-setup-{secrets.token_hex(6)}", secrets.token_urlsafe(24), vhost)
    ensure_user(admin, ADMINISTRATOR)
    try:
        yield admin.url(host, port)
    finally:
        delete_user(admin.name)
