"""Provisioning against the real PostgreSQL and RabbitMQ, with throw-away names only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pg8000.native
import pika
import pytest

from shop_local.mappings import load_mapping_file
from shop_local.stack import broker_users, provision
from tests.support.stack import ADMIN_URL, ThrowawayStack

pytestmark = pytest.mark.integration


def service_db(run_id: str, service: str) -> provision.ServiceDatabase:
    name = f"shoptest_{run_id}_{service}"
    return provision.ServiceDatabase.from_url(
        f"postgresql+pg8000://{name}:pw-{run_id}@127.0.0.1:5432/{name}"
    )


def url_of(db: provision.ServiceDatabase) -> str:
    return f"postgresql+pg8000://{db.role}:{db.password}@{db.host}:{db.port}/{db.database}"


def connect_as(role: provision.ServiceDatabase, database: str) -> pg8000.native.Connection:
    return pg8000.native.Connection(
        user=role.role, password=role.password, host=role.host, port=role.port,
        database=database, timeout=10,
    )


@pytest.fixture
def two_databases() -> Iterator[tuple[provision.ServiceDatabase, provision.ServiceDatabase]]:
    run_id = uuid.uuid4().hex[:8]
    first, second = service_db(run_id, "alpha"), service_db(run_id, "beta")
    try:
        provision.provision_database(ADMIN_URL, first)
        provision.provision_database(ADMIN_URL, second)
        yield first, second
    finally:
        provision.drop_database(ADMIN_URL, first)
        provision.drop_database(ADMIN_URL, second)


def test_can_parse_a_service_database_url() -> None:
    db = provision.ServiceDatabase.from_url(
        "postgresql+pg8000://shop_user:p%40ss@127.0.0.1:5433/shop_user"
    )
    assert (db.role, db.password, db.database, db.port) == ("shop_user", "p@ss", "shop_user", 5433)


def test_each_role_connects_only_to_its_own_database(two_databases) -> None:
    first, second = two_databases
    own = connect_as(first, first.database)
    assert own.run("SELECT current_user, current_database()") == [[first.role, first.database]]
    own.close()

    for role, other in ((first, second), (second, first)):
        with pytest.raises(pg8000.native.DatabaseError) as refused:
            connect_as(role, other.database).close()
        assert "permission denied" in str(refused.value)


def test_a_service_role_is_no_superuser_and_owns_its_database(two_databases) -> None:
    first, _ = two_databases
    admin = provision.admin_connection(ADMIN_URL)
    try:
        rows = admin.run(
            "SELECT r.rolsuper, r.rolcreatedb, r.rolcreaterole, pg_get_userbyid(d.datdba) "
            "FROM pg_roles r, pg_database d WHERE r.rolname = :r AND d.datname = :d",
            r=first.role, d=first.database,
        )
    finally:
        admin.close()
    assert rows == [[False, False, False, first.role]]


def test_provisioning_again_keeps_the_data_and_the_isolation(two_databases) -> None:
    first, second = two_databases
    own = connect_as(first, first.database)
    own.run("CREATE TABLE kept (id int)")
    own.run("INSERT INTO kept VALUES (1)")
    own.close()

    provision.provision_database(ADMIN_URL, first)
    provision.provision_database(ADMIN_URL, first)

    again = connect_as(first, first.database)
    assert again.run("SELECT id FROM kept") == [[1]]
    again.close()
    with pytest.raises(pg8000.native.DatabaseError, match="permission denied"):
        connect_as(second, first.database).close()


def test_migrations_run_twice_leave_the_schema_at_head(two_databases) -> None:
    first, _ = two_databases
    url = url_of(first)
    provision.run_migrations("user", url)
    provision.run_migrations("user", url)  # a second run is a no-op, not an error

    own = connect_as(first, first.database)
    try:
        versions = own.run("SELECT version_num FROM alembic_version")
        tables = {row[0] for row in own.run(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        owners = {row[0] for row in own.run(
            "SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")}
    finally:
        own.close()
    assert len(versions) == 1
    assert {"users", "outbox", "alembic_version"} <= tables
    assert owners == {first.role}  # the service's own role owns its tables


def test_vhost_and_users_provisioning_is_idempotent_and_usable(stack: ThrowawayStack) -> None:
    broker_users.ensure_vhost(stack.vhost)  # the stack created it already; again is fine
    assert stack.vhost in broker_users.rabbitmqctl("list_vhosts", "name").splitlines()
    user = broker_users.BrokerUser.from_url(stack.amqp_url("user"))
    grant = broker_users.grant_for("user", load_mapping_file())
    broker_users.ensure_user(user, grant)  # again: same password, same grant
    connection = pika.BlockingConnection(pika.URLParameters(stack.amqp_url("user")))
    try:
        assert connection.is_open
    finally:
        connection.close()
