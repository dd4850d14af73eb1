"""Provisioning: one database and one role per service, the RabbitMQ vhost, migrations.

Every step is idempotent, so `make run` can run it on every start.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import pg8000.native
from alembic import command
from alembic.config import Config

from shop_common.config import SERVICES
from shop_common.messaging import vhost_of
from shop_local.apps import function_dir, service_exists


@dataclass(frozen=True)
class ServiceDatabase:
    role: str
    password: str
    database: str
    host: str
    port: int

    @classmethod
    def from_url(cls, url: str) -> ServiceDatabase:
        parts = urlsplit(url)
        return cls(
            role=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            database=parts.path.lstrip("/"),
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
        )


def admin_connection(admin_url: str) -> pg8000.native.Connection:
    parts = urlsplit(admin_url)
    return pg8000.native.Connection(
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password else None,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        database=parts.path.lstrip("/") or "postgres",
        timeout=10,
    )


def provision_database(admin_url: str, db: ServiceDatabase) -> None:
    """Create (or update) the role and its database; only that role may connect to it."""
    ident, lit = pg8000.native.identifier, pg8000.native.literal
    conn = admin_connection(admin_url)
    try:
        exists = conn.run("SELECT 1 FROM pg_roles WHERE rolname = :r", r=db.role)
        verb = "ALTER" if exists else "CREATE"
        conn.run(
            f"{verb} ROLE {ident(db.role)} LOGIN PASSWORD {lit(db.password)} "
            "NOSUPERUSER NOCREATEDB NOCREATEROLE"
        )
        if not conn.run("SELECT 1 FROM pg_database WHERE datname = :d", d=db.database):
            conn.run(f"CREATE DATABASE {ident(db.database)} OWNER {ident(db.role)}")
        conn.run(f"REVOKE ALL ON DATABASE {ident(db.database)} FROM PUBLIC")
        conn.run(f"GRANT CONNECT, TEMPORARY ON DATABASE {ident(db.database)} TO {ident(db.role)}")
    finally:
        conn.close()


def drop_database(admin_url: str, db: ServiceDatabase) -> None:
    ident = pg8000.native.identifier
    conn = admin_connection(admin_url)
    try:
        conn.run(f"DROP DATABASE IF EXISTS {ident(db.database)} WITH (FORCE)")
        conn.run(f"DROP ROLE IF EXISTS {ident(db.role)}")
    finally:
        conn.close()


def run_migrations(service: str, database_url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(function_dir(service) / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, "head")


def rabbitmqctl(*args: str) -> str:
    result = subprocess.run(
        ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout


def ensure_vhost(amqp_url: str) -> None:
    vhost = vhost_of(amqp_url)
    user = unquote(urlsplit(amqp_url).username or "guest")
    if vhost not in rabbitmqctl("list_vhosts", "name").split():
        rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")


def delete_vhost(amqp_url: str) -> None:
    vhost = vhost_of(amqp_url)
    if vhost != "/" and vhost in rabbitmqctl("list_vhosts", "name").split():
        rabbitmqctl("delete_vhost", vhost)


def prepare_service_databases(
    env: Mapping[str, str], admin_url: str, say: Callable[[str], None]
) -> None:
    """Provision and migrate the database of every service that has an app."""
    for service in SERVICES:
        url = env.get(f"SHOP_{service.upper()}_DATABASE_URL")
        if not url or not service_exists(service):
            continue
        provision_database(admin_url, ServiceDatabase.from_url(url))
        if (function_dir(service) / "migrations").is_dir():
            run_migrations(service, url)
        say(f"{service}: database ready")
