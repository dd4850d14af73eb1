"""`shop setup` says, one line each, when the host's PostgreSQL, Redis or RabbitMQ is open.

Checked against private servers set up open and closed (the shared ones are never
reconfigured), and a throw-away broker user standing in for `guest`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import redis

from shop_local import cli
from shop_local.stack import broker_users, host_checks, provision, redis_users
from tests.support.private_servers import PrivatePostgres, PrivateRedis

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def trusting_postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres(auth="trust").create()
    cluster.start()
    yield cluster
    cluster.remove()


@pytest.fixture(scope="module")
def closed_postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres(auth="scram-sha-256").create()
    cluster.start()
    yield cluster
    cluster.remove()


@pytest.fixture
def open_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.remove()


def one_line(warning: str | None) -> str:
    assert warning is not None
    assert "\n" not in warning
    return warning


def test_warns_when_postgresql_trusts_local_connections(
        trusting_postgres: PrivatePostgres) -> None:
    admin = provision.admin_connection(trusting_postgres.admin_url)
    try:
        warning = one_line(host_checks.postgres_warning(admin))
    finally:
        admin.close()
    assert "PostgreSQL trusts local connections (pg_hba.conf line" in warning
    assert "scram-sha-256" in warning and "README: Security" in warning


def test_says_nothing_when_postgresql_asks_for_passwords(closed_postgres: PrivatePostgres) -> None:
    admin = provision.admin_connection(closed_postgres.admin_url)
    try:
        assert host_checks.postgres_warning(admin) is None
    finally:
        admin.close()


def test_warns_about_an_open_redis_default_user_until_it_has_a_password(
        open_redis: PrivateRedis) -> None:
    admin = redis_users.admin_client(open_redis.admin_url)
    warning = one_line(host_checks.redis_warning(admin))
    assert "requirepass" in warning and "SHOP_REDIS_ADMIN_URL" in warning
    password = secrets.token_urlsafe(12)
    admin.config_set("requirepass", password)
    admin.close()
    closed = redis.Redis.from_url(f"redis://default:{password}@127.0.0.1:{open_redis.port}/0")
    try:
        assert host_checks.redis_warning(closed) is None
    finally:
        closed.close()


def test_warns_about_a_broker_user_with_a_well_known_password() -> None:
    name = f"shoptest-{secrets.token_hex(4)}-wellknown"
    broker_users.ensure_user(broker_users.BrokerUser(name, name, "/"), broker_users.BrokerGrant())
    try:
        warning = one_line(host_checks.rabbitmq_warning(name, name))
        assert f"rabbitmqctl delete_user {name}" in warning
        assert host_checks.rabbitmq_warning(name, "another-password") is None
    finally:
        broker_users.delete_user(name)


def test_shop_setup_prints_one_warning_line_per_open_server(
        trusting_postgres: PrivatePostgres, open_redis: PrivateRedis,
        capsys: pytest.CaptureFixture[str]) -> None:
    cli.warn_about_the_host({"SHOP_PG_ADMIN_URL": trusting_postgres.admin_url,
                             "SHOP_REDIS_ADMIN_URL": open_redis.admin_url})
    lines = [line for line in capsys.readouterr().out.splitlines() if "warning:" in line]
    assert sum("warning: PostgreSQL" in line for line in lines) == 1
    assert sum("warning: Redis" in line for line in lines) == 1
