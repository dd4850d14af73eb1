"""`shop reset`: remove what `shop setup` created on the host's servers.

The reverse of provisioning, for the services `.env` names: each service's database
and login role, each service's RabbitMQ user and the vhost (with the queues and
exchanges declared in it), each service's Redis ACL user and every key under the
service's prefix in its logical database. Files under `var/` and `.env` are left to
`make clean`. Every step is idempotent: what is already gone is skipped.

The stack must be stopped first (`shop reset` stops it): a running service would
recreate keys and reconnect to what is being removed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from shop_local.stack import broker_users, provision, redis_users


def remove_databases(env: Mapping[str, str], admin_url: str,
                     say: Callable[[str], None]) -> None:
    """Drop each service's database (its open sessions are ended) and then its role.

    `admin_url` is a PostgreSQL superuser URL (`SHOP_PG_ADMIN_URL`); errors of the
    server (pg8000's DatabaseError) propagate.
    """
    for service in provision.provisioned_services():
        url = env.get(f"SHOP_{service.upper()}_DATABASE_URL")
        if not url:
            continue
        database = provision.ServiceDatabase.from_url(url)
        removed = provision.drop_database(admin_url, database)
        say(f"{service}: database {database.database!r} and role {database.role!r} "
            f"{'removed' if removed else 'already gone'}")


def remove_broker(env: Mapping[str, str], say: Callable[[str], None]) -> None:
    """Delete each service's RabbitMQ user, then their vhost with everything in it.

    Raises SettingsError when a service's broker URL is invalid, CalledProcessError
    when `rabbitmqctl` fails for another reason than "already gone".
    """
    users = [broker_users.BrokerUser.from_url(str(provision.service_settings(env, s).amqp_url))
             for s in provision.provisioned_services()]
    for user in users:
        broker_users.delete_user(user.name)
    for vhost in sorted({user.vhost for user in users}):
        if vhost == "/":  # RabbitMQ's own default vhost: never the shop's to remove
            say("RabbitMQ: the services' users removed; the default vhost '/' is kept")
            continue
        removed = broker_users.delete_vhost(vhost)
        say(f"RabbitMQ: vhost {vhost!r} {'removed' if removed else 'already gone'}, and the "
            "services' users with it")


def remove_cache(env: Mapping[str, str], admin_url: str,
                 say: Callable[[str], None]) -> None:
    """Delete every key under each service's prefix in its database, then its ACL user.

    `admin_url` is the Redis administrator's URL (`SHOP_REDIS_ADMIN_URL`); the keys
    are found with SCAN in the logical database each service's Redis URL names.
    """
    for service in provision.provisioned_services():
        settings = provision.service_settings(env, service)
        user = redis_users.RedisUser.from_url(str(settings.redis_url), settings.redis_namespace)
        database = redis_users.database_of(str(settings.redis_url))
        removed = redis_users.delete_keys(admin_url, database, user.key_prefix)
        admin = redis_users.admin_client(admin_url)
        try:
            existed = redis_users.delete_user(admin, user.name)
        finally:
            admin.close()
        keys = f"{removed} key{'' if removed == 1 else 's'}"
        say(f"Redis: the {service} service's user {'removed' if existed else 'already gone'}, "
            f"and {keys} under {user.key_prefix!r}")


def remove_provisioned(env: Mapping[str, str], pg_admin_url: str, redis_admin_url: str,
                       say: Callable[[str], None]) -> None:
    """Everything `shop setup` created for the services `env` names (see the module)."""
    remove_databases(env, pg_admin_url, say)
    remove_broker(env, say)
    remove_cache(env, redis_admin_url, say)
