"""Provisioning: one database and role, broker user and Redis user per service; migrations.

Every step is idempotent, so `make run` can run it on every start. Each service's
credentials are the ones its settings name (`.env`: SHOP_<SERVICE>_DATABASE_URL,
_AMQP_URL, _REDIS_URL), so what is created is exactly what the service will use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from urllib.parse import unquote, urlsplit

import pg8000.native
from alembic import command
from alembic.config import Config

from shop_common.config import SERVICES, Settings, merge_sources, validate_settings
from shop_common.messaging import declare_topology_at
from shop_common.redaction import redact_text
from shop_common.setting_values import SettingsError, url_port_setting
from shop_local.apps import function_dir, service_exists
from shop_local.mappings import load_mapping_file
from shop_local.stack import broker_users, redis_users


@dataclass(frozen=True)
class ServiceDatabase:
    """A service's PostgreSQL login role, its password, its database and the server's host and
    port, as its SHOP_<SERVICE>_DATABASE_URL names them.
    """
    role: str
    password: str
    database: str
    host: str
    port: int

    @classmethod
    def from_url(cls, url: str) -> ServiceDatabase:
        """Parse `postgresql+pg8000://role:password@host:port/database` (percent-encoded parts
        decoded; host 127.0.0.1 and port 5432 when absent). Missing parts are
        empty strings; ValueError when the port is not a number.
        """
        parts = urlsplit(url)
        return cls(
            role=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            database=parts.path.lstrip("/"),
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
        )


def admin_connection(admin_url: str) -> pg8000.native.Connection:
    """A pg8000 connection as the administrator `admin_url` names
    (`postgresql://user[:password]@host:port/database`; user `postgres` and database
    `postgres` by default), with a 10 s socket timeout. Raises pg8000's InterfaceError when
    the server cannot be reached, DatabaseError when it refuses the login.
    """
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


def drop_database(admin_url: str, db: ServiceDatabase) -> bool:
    """Drop the service's database, ending its open sessions (`DROP DATABASE … WITH (FORCE)`,
    PostgreSQL 13 or later), then its role; either one missing is skipped. True when either
    existed. DatabaseError when the role still owns objects in another database or the
    administrator may not drop them.
    """
    ident = pg8000.native.identifier
    conn = admin_connection(admin_url)
    try:
        existed = bool(
            conn.run("SELECT 1 FROM pg_database WHERE datname = :name", name=db.database)
            or conn.run("SELECT 1 FROM pg_roles WHERE rolname = :name", name=db.role))
        conn.run(f"DROP DATABASE IF EXISTS {ident(db.database)} WITH (FORCE)")
        conn.run(f"DROP ROLE IF EXISTS {ident(db.role)}")
    finally:
        conn.close()
    return existed


def run_migrations(service: str, database_url: str) -> None:
    """Upgrade the service's database to the head of its Alembic history
    (`functions/<service>/migrations/`), connected with `database_url`, i.e. as the service's
    own role. Raises what Alembic and the migrations raise.
    """
    config = Config()
    config.set_main_option("script_location", str(function_dir(service) / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, "head")


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


def service_settings(env: Mapping[str, str], service: str) -> Settings:
    """A service's settings as it will read them from this `.env`; SettingsError if bad."""
    return validate_settings(service, merge_sources(service, {}, env))


# The URLs of a service's settings that set-up and reset read, and the port each server
# answers on when a URL names none.
SERVICE_URL_PORTS = {"database_url": 5432, "redis_url": 6379, "amqp_url": 5672}


def service_variable(env: Mapping[str, str], service: str, field: str) -> str:
    """The variable a service's setting `field` comes from in `env`: SHOP_<SERVICE>_<FIELD>
    when it is there, else SHOP_<FIELD> (as `merge_sources` picks).
    """
    own = f"SHOP_{service.upper()}_{field.upper()}"
    return own if own in env else f"SHOP_{field.upper()}"


def redis_url_numbers(env: Mapping[str, str], name: str) -> int:
    """The logical database of the Redis URL `env[name]`, after its port is checked.
    SettingsError naming `name` when the port or the database is not a number.
    """
    url_port_setting(env, name, "", SERVICE_URL_PORTS["redis_url"])
    url = env[name]
    try:
        return redis_users.database_of(url)
    except ValueError:
        raise SettingsError(f"{name}: {redact_text(url)!r} names a database that is not a "
                            "number (redis://host:port/0)") from None


def number_readers(env: Mapping[str, str]) -> list[Callable[[], object]]:
    """A reader of each number set-up and reset take from the provisioned services' settings in
    `env`: their URLs' ports and Redis databases, each variable once.
    """
    readers: dict[str, Callable[[], object]] = {}
    for service in provisioned_services():
        for field, port in SERVICE_URL_PORTS.items():
            name = service_variable(env, service, field)
            if env.get(name, "").strip():
                readers.setdefault(name, partial(redis_url_numbers, env, name)
                                   if field == "redis_url"
                                   else partial(url_port_setting, env, name, "", port))
    return list(readers.values())


def provisioned_services() -> list[str]:
    """The services `shop setup` provisions: those of shop_common.config.SERVICES whose function
    app exists under functions/.
    """
    return [s for s in SERVICES if service_exists(s)]


def broker_address(settings: Settings) -> tuple[str, int]:
    """The (host, port) of a service's broker URL; 127.0.0.1 and 5672 when it names none."""
    return settings.amqp_url.host or "127.0.0.1", settings.amqp_url.port or 5672


def prepare_broker(env: Mapping[str, str], say: Callable[[str], None]) -> None:
    """The vhost, each service's broker user with its least grant, and the topology.

    The broker's own `guest` account loses any right it had on the shop's vhost.
    """
    mappings = load_mapping_file()
    users = {s: broker_users.BrokerUser.from_url(str(service_settings(env, s).amqp_url))
             for s in provisioned_services()}
    vhosts = {user.vhost for user in users.values()}
    if len(vhosts) != 1:
        raise RuntimeError(f"the services' broker URLs name several vhosts: {sorted(vhosts)}")
    vhost = vhosts.pop()
    broker_users.ensure_vhost(vhost)
    for service, user in users.items():
        broker_users.ensure_user(user, broker_users.grant_for(service, mappings))
    if broker_users.revoke_vhost_access(vhost, "guest"):
        say(f"RabbitMQ: removed guest's permissions on vhost {vhost!r}")
    host, port = broker_address(service_settings(env, next(iter(users))))
    with broker_users.temporary_administrator(vhost, host, port) as admin_url:
        declare_topology_at(admin_url, load_mapping_file(amqp_url=admin_url).queue_specs())
    say(f"RabbitMQ: vhost {vhost!r}, a user per service, topology declared")


def prepare_cache_users(env: Mapping[str, str], admin_url: str,
                        say: Callable[[str], None]) -> None:
    """Each service's Redis ACL user: its own key prefix, a cache's commands only."""
    admin = redis_users.admin_client(admin_url)
    try:
        for service in provisioned_services():
            settings = service_settings(env, service)
            user = redis_users.RedisUser.from_url(str(settings.redis_url),
                                                  settings.redis_namespace)
            redis_users.ensure_user(admin, user)
    finally:
        admin.close()
    say("Redis: an ACL user per service")
