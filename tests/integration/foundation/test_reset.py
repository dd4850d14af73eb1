"""`shop reset` against the real PostgreSQL, RabbitMQ and Redis, with throw-away names only.

A namespace of its own (`shoptest_<run>_<service>` databases and roles, the
`shoptest-<run>` vhost and users, Redis users and keys under `shoptest:<run>:`) is set
up by the very steps `shop setup` runs, then reset; what `shop setup` did not create
(another key in the same Redis database) must survive.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pg8000.native
import pytest
import redis

from shop_common.config import SERVICES
from shop_local.apps import service_exists
from shop_local.stack import broker_users, provision, redis_users, reset
from shop_local.stack.backing import ensure_backing_services
from tests.support.stack import ADMIN_URL, REDIS_ADMIN_URL, TEST_REDIS_DB

pytestmark = pytest.mark.integration

SERVICES_WITH_APPS = [s for s in SERVICES if service_exists(s)]


@dataclass(frozen=True)
class Namespace:
    run_id: str

    @property
    def vhost(self) -> str:
        return f"shoptest-{self.run_id}"

    @property
    def key_prefix(self) -> str:
        return f"shoptest:{self.run_id}:"

    def env(self) -> dict[str, str]:
        """A `.env` as `shop setup` reads it, every name in this namespace."""
        env: dict[str, str] = {}
        for service in SERVICES_WITH_APPS:
            upper, secret = service.upper(), secrets.token_urlsafe(12)
            database = f"shoptest_{self.run_id}_{service}"
            user = f"shoptest-{self.run_id}-{service}"
            env[f"SHOP_{upper}_DATABASE_URL"] = (
                f"postgresql+pg8000://{database}:{secret}@127.0.0.1:5432/{database}")
            env[f"SHOP_{upper}_AMQP_URL"] = f"amqp://{user}:{secret}@127.0.0.1:5672/{self.vhost}"
            env[f"SHOP_{upper}_REDIS_URL"] = (
                f"redis://{user}:{secret}@127.0.0.1:6379/{TEST_REDIS_DB}")
            env[f"SHOP_{upper}_REDIS_PREFIX"] = f"{self.key_prefix}{service}:"
        return env


def ignore(_message: str) -> None:
    pass


def set_up(env: dict[str, str]) -> None:
    """The provisioning steps of `shop setup` (cli.set_up), with this namespace's names."""
    provision.prepare_service_databases(env, ADMIN_URL, ignore)
    provision.prepare_broker(env, ignore)
    provision.prepare_cache_users(env, REDIS_ADMIN_URL, ignore)


@pytest.fixture
def namespace() -> Iterator[tuple[Namespace, dict[str, str]]]:
    ensure_backing_services()
    space = Namespace(uuid.uuid4().hex[:8])
    env = space.env()
    try:
        yield space, env
    finally:
        with contextlib.suppress(Exception):
            reset.remove_provisioned(env, ADMIN_URL, REDIS_ADMIN_URL, ignore)


def databases_and_roles(run_id: str) -> list[str]:
    conn = provision.admin_connection(ADMIN_URL)
    try:
        pattern = f"shoptest\\_{run_id}\\_%"
        rows = conn.run("SELECT datname FROM pg_database WHERE datname LIKE :p "
                        "UNION ALL SELECT rolname FROM pg_roles WHERE rolname LIKE :p",
                        p=pattern)
        return sorted(row[0] for row in rows)
    finally:
        conn.close()


def broker_names(space: Namespace) -> list[str]:
    users = [line.split("\t", 1)[0]
             for line in broker_users.rabbitmqctl("list_users").splitlines()]
    vhosts = broker_users.rabbitmqctl("list_vhosts", "name").splitlines()
    return sorted(name for name in [*users, *vhosts] if name.startswith(space.vhost))


def redis_admin() -> redis.Redis[bytes]:
    return redis_users.admin_client(REDIS_ADMIN_URL, TEST_REDIS_DB)


def cache_users(space: Namespace) -> list[str]:
    client = redis_admin()
    try:
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in client.acl_users()]
        return sorted(name for name in names if name.startswith(space.vhost))
    finally:
        client.close()


def keys_under(prefix: str) -> list[bytes]:
    client = redis_admin()
    try:
        return sorted(client.scan_iter(match=redis_users.key_pattern(prefix)))
    finally:
        client.close()


def write_as_each_service(env: dict[str, str]) -> None:
    """A key per service, written by the service's own Redis user, as a running one would."""
    for service in SERVICES_WITH_APPS:
        client = redis.Redis.from_url(env[f"SHOP_{service.upper()}_REDIS_URL"])
        try:
            client.set(env[f"SHOP_{service.upper()}_REDIS_PREFIX"] + "products:page", b"[]")
        finally:
            client.close()


def assert_cannot_log_in(env: dict[str, str]) -> None:
    """The user service's own credentials open neither its database nor its Redis."""
    database = provision.ServiceDatabase.from_url(env["SHOP_USER_DATABASE_URL"])
    with pytest.raises(pg8000.native.DatabaseError):
        pg8000.native.Connection(user=database.role, password=database.password,
                                 host=database.host, port=database.port,
                                 database="postgres", timeout=10).close()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis.from_url(env["SHOP_USER_REDIS_URL"]).ping()


def test_reset_removes_what_setup_created_and_nothing_else(namespace) -> None:
    space, env = namespace
    set_up(env)
    write_as_each_service(env)
    outsider = f"{space.key_prefix}not-a-service:kept"
    client = redis_admin()
    client.set(outsider, b"1")
    try:
        assert len(databases_and_roles(space.run_id)) == 2 * len(SERVICES_WITH_APPS)
        assert broker_names(space) != []
        assert len(cache_users(space)) == len(SERVICES_WITH_APPS)
        assert len(keys_under(space.key_prefix)) == len(SERVICES_WITH_APPS) + 1

        reset.remove_provisioned(env, ADMIN_URL, REDIS_ADMIN_URL, ignore)

        assert databases_and_roles(space.run_id) == []
        assert broker_names(space) == []
        assert cache_users(space) == []
        assert keys_under(space.key_prefix) == [outsider.encode()]
        assert_cannot_log_in(env)
    finally:
        client.delete(outsider)
        client.close()


def test_reset_is_harmless_when_nothing_was_set_up(namespace) -> None:
    space, env = namespace
    said: list[str] = []
    reset.remove_provisioned(env, ADMIN_URL, REDIS_ADMIN_URL, said.append)
    assert databases_and_roles(space.run_id) == [] and broker_names(space) == []
    assert any("0 keys" in line for line in said)
    # A second reset (or one with nothing set up) says so rather than "removed".
    database_lines = [line for line in said if "database" in line]
    assert database_lines and all(line.endswith("already gone") for line in database_lines)
    redis_lines = [line for line in said if line.startswith("Redis:")]
    assert redis_lines and all(" service's user already gone, and 0 keys" in line
                               for line in redis_lines)
    assert [line for line in said if line.startswith("RabbitMQ:")] == [
        f"RabbitMQ: vhost {space.vhost!r} already gone, and the services' users with it"]

