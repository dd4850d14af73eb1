"""One-shot set-up of the docker-compose stack: what `shop up` does before it starts processes.

`shop up` also starts PostgreSQL, Redis and RabbitMQ on the host when they are down
and creates the vhost with rabbitmqctl; under compose those are containers (the
vhost comes from RABBITMQ_DEFAULT_VHOST), so this runs only the provisioning part,
against the compose services named in the environment. Safe to run again.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from shop_common.keys import generate_keys
from shop_common.messaging import declare_topology_at
from shop_local.apps import service_exists
from shop_local.mappings import load_mapping_file
from shop_local.stack import events as stack_events
from shop_local.stack import provision
from shop_local.stack.task import run_task


def say(message: str) -> None:
    print(f"compose-setup: {message}", flush=True)


def main() -> int:
    env = dict(os.environ)
    provision.prepare_service_databases(env, env["SHOP_PG_ADMIN_URL"], say)
    provision.prepare_cache_users(env, env["SHOP_REDIS_ADMIN_URL"], say)
    created = generate_keys(Path(env["SHOP_KEYS_DIR"]))
    if created:
        say(f"generated signing keys: {', '.join(created)}")
    password = env.get("SHOP_SUPERADMIN_PASSWORD") or ""
    if not password:
        password = secrets.token_urlsafe(18)
        say(f"generated the superadmin's password (shown once): {password}")
    say(run_task("user", "create_superadmin", {
        "email": env.get("SHOP_SUPERADMIN_EMAIL", "admin@example.com"), "password": password,
    }))
    if service_exists("product"):
        say(run_task("product", "seed_demo_products", {}))
    # Under compose the broker's administrator is RABBITMQ_DEFAULT_USER, which the
    # services' SHOP_AMQP_URL names (there is no rabbitmqctl in this container).
    declare_topology_at(env["SHOP_AMQP_URL"],
                        load_mapping_file(amqp_url=env["SHOP_AMQP_URL"]).queue_specs())
    stack_events.set_up(env)
    say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
