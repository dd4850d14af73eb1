"""Settings in the cloud: endpoints in SSM, credentials and keys in Secrets Manager.

In AWS the platform stack (infra/aws/shop-platform.json) creates these. On an
emulated cloud `seed` writes them from the local `.env`, so the emulated functions
point at the local PostgreSQL, Redis and RabbitMQ. Either way `resolve` turns them
into each function's environment at deploy: endpoints as URLs WITHOUT credentials,
and the NAMES of the secrets holding each service's own credentials
(`SHOP_<SERVICE>_DATABASE_SECRET=shop/dev/user/database`, `..._REDIS_SECRET`,
`..._AMQP_SECRET`), which the function reads at cold start
(shop_common.credential_secrets). No password is ever in a Lambda configuration.

Signing keys are the stage's own: generated for the stage the first time it is
deployed and kept only in its Secrets Manager (`shop/<stage>/keys/...`), never the
local stack's `var/keys`, so a token signed in one stage means nothing in another or
locally. A function is told where they are with `SHOP_KEYS_SECRET_PREFIX`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from shop_common.keys import all_key_names
from shop_common.messaging import vhost_of
from shop_common.setting_values import check_each, url_port_setting
from shop_local.deploy.names import CloudNames

Clients = Callable[[str], Any]
LAMBDA_KEYS_DIR = "/tmp/shop-keys"  # noqa: S108 (Lambda's only writable folder)
DEFAULT_REDIS = "127.0.0.1:6379"
DEFAULT_BROKER = "amqp://127.0.0.1:5672/shop"
# The URLs `seed` reads (SHOP_<SERVICE>_<KIND>_URL, else SHOP_<KIND>_URL for the last two),
# with the port each server answers on when a URL names none.
URL_DEFAULT_PORTS = {"DATABASE": 5432, "REDIS": 6379, "AMQP": 5672}


@dataclass
class SettingsStore:
    """The parameters and secrets of one stage; records what a seed actually changed."""

    names: CloudNames
    clients: Clients
    changed: list[str] = field(default_factory=list)

    def put_parameter(self, name: str, value: str) -> None:
        """Set the SSM String parameter `name` to `value` (`PutParameter` with Overwrite),
        unless it already holds that value; a change is recorded in `changed`. botocore's
        ClientError when the target refuses.
        """
        ssm = self.clients("ssm")
        try:
            if ssm.get_parameter(Name=name)["Parameter"]["Value"] == value:
                return
        except ClientError:
            pass
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
        self.changed.append(f"parameter {name}")

    def put_secret(self, name: str, value: str) -> None:
        """Create the Secrets Manager secret `name` with `value` as its SecretString, or put a
        new version when it differs; a change is recorded in `changed`. ClientError for
        anything but ResourceNotFoundException.
        """
        secrets = self.clients("secretsmanager")
        try:
            if secrets.get_secret_value(SecretId=name)["SecretString"] == value:
                return
            secrets.put_secret_value(SecretId=name, SecretString=value)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            secrets.create_secret(Name=name, SecretString=value)
        self.changed.append(f"secret {name}")

    def parameters(self) -> dict[str, str]:
        """Every SSM parameter of the stage (under `/shop/<stage>/`, recursively), name to
        value. ClientError when the target refuses.
        """
        ssm = self.clients("ssm")
        found: dict[str, str] = {}
        for page in ssm.get_paginator("get_parameters_by_path").paginate(
            Path=self.names.parameter_path, Recursive=True
        ):
            found.update({p["Name"]: p["Value"] for p in page["Parameters"]})
        return found

    def secret(self, name: str) -> str | None:
        """The SecretString of the secret `name`, or None when it does not exist or cannot be
        read.
        """
        try:
            return str(self.clients("secretsmanager").get_secret_value(
                SecretId=name)["SecretString"])
        except ClientError:
            return None

    def secret_names(self) -> list[str]:
        """The names of the stage's secrets (`shop/<stage>/…`), sorted. ClientError when the
        target refuses `ListSecrets`.
        """
        secrets = self.clients("secretsmanager")
        found: list[str] = []
        for page in secrets.get_paginator("list_secrets").paginate(
            Filters=[{"Key": "name", "Values": [self.names.secret_prefix]}]
        ):
            found += [s["Name"] for s in page["SecretList"]
                      if s["Name"].startswith(self.names.secret_prefix)]
        return sorted(found)


def _host_port(url: str, default_port: int) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or '127.0.0.1'}:{parts.port or default_port}"


def credentials_of(url: str) -> str | None:
    """The {"username", "password"} secret a URL's user information makes; None without."""
    parts = urlsplit(url)
    if not parts.username or parts.password is None:
        return None
    return json.dumps({"username": unquote(parts.username),
                       "password": unquote(parts.password)}, sort_keys=True)


def check_url_ports(env: dict[str, str], services: list[str]) -> None:
    """SettingsError, one line per setting, when a URL `seed` reads from `env` names a port
    that is not a number from 1 to 65535.
    """
    urls = [(f"SHOP_{prefix}{kind}_URL", port) for kind, port in URL_DEFAULT_PORTS.items()
            for prefix in ("", *(f"{s.upper()}_" for s in services))]
    check_each(partial(url_port_setting, env, name, "", port)
               for name, port in urls if env.get(name, "").strip())


def seed(store: SettingsStore, env: dict[str, str], services: list[str]) -> None:
    """Write the stage's settings from the local `.env` (emulated cloud only). SettingsError,
    before anything is written, when a URL there names a port that is not a number.
    """
    check_url_ports(env, services)
    names = store.names
    database_urls = {s: env[f"SHOP_{s.upper()}_DATABASE_URL"] for s in services
                     if env.get(f"SHOP_{s.upper()}_DATABASE_URL")}
    if database_urls:
        store.put_parameter(names.parameter("database", "endpoint"),
                            _host_port(next(iter(database_urls.values())), 5432))
    for service, url in database_urls.items():
        parts = urlsplit(url)
        store.put_secret(names.database_secret(service), json.dumps({
            "username": unquote(parts.username or ""), "password": unquote(parts.password or ""),
            "dbname": parts.path.lstrip("/"),
        }, sort_keys=True))

    redis_urls = {s: env.get(f"SHOP_{s.upper()}_REDIS_URL", env.get("SHOP_REDIS_URL", ""))
                  for s in services}
    any_redis = next((u for u in redis_urls.values() if u), f"redis://{DEFAULT_REDIS}/0")
    store.put_parameter(names.parameter("redis", "endpoint"), _host_port(any_redis, 6379))
    for service, url in redis_urls.items():
        store.put_parameter(names.parameter(service, "redis_db"),
                            (urlsplit(url).path.lstrip("/") or "0") if url else "0")
        credentials = credentials_of(url) if url else None
        if credentials:
            store.put_secret(names.redis_secret(service), credentials)

    amqp_urls = {s: env.get(f"SHOP_{s.upper()}_AMQP_URL", env.get("SHOP_AMQP_URL", ""))
                 for s in services}
    amqp = next((u for u in amqp_urls.values() if u), DEFAULT_BROKER)
    parts = urlsplit(amqp)
    store.put_parameter(names.parameter("broker", "endpoint"),
                        f"{parts.scheme}://{_host_port(amqp, 5672)}")
    store.put_parameter(names.parameter("broker", "vhost"), vhost_of(amqp))
    for service, url in amqp_urls.items():
        credentials = credentials_of(url) if url else None
        if credentials:
            store.put_secret(names.broker_user_secret(service), credentials)
    # The broker's administrator (its Amazon MQ user): made for the stage, never `guest`.
    if store.secret(names.broker_secret) is None:
        store.put_secret(names.broker_secret, json.dumps(
            {"username": "shop-admin", "password": secrets.token_urlsafe(24)}, sort_keys=True))
    ensure_stage_keys(store)


def ensure_stage_keys(store: SettingsStore) -> list[str]:
    """The stage's own signing keys: generated once for it, kept; return the names made.

    They are made here, in memory, and stored only in the stage's Secrets Manager: the
    local stack's keys never leave `var/keys`.
    """
    names = store.names
    made = []
    for key in all_key_names():
        private_pem = store.secret(names.private_key_secret(key))
        if private_pem is None:
            private_key = ed25519.Ed25519PrivateKey.generate()
            private_pem = private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()).decode()
            store.put_secret(names.private_key_secret(key), private_pem)
            made.append(key)
        loaded = serialization.load_pem_private_key(private_pem.encode(), password=None)
        public_pem = loaded.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        store.put_secret(names.public_key_secret(key), public_pem)
    return made


def publish_service_url(store: SettingsStore, service: str, url: str) -> None:
    """Record an HTTP app's deployed URL in SSM (`/shop/<stage>/<service>/url`, no trailing
    slash), where `resolve` finds it for the apps that call it.
    """
    store.put_parameter(store.names.parameter(service, "url"), url.rstrip("/"))


def resolve(store: SettingsStore, services: list[str]) -> dict[str, dict[str, str]]:
    """Each service's Lambda environment: endpoints and secret names, never a credential."""
    names = store.names
    params = store.parameters()
    secret_names = set(store.secret_names())
    shared: dict[str, str] = {
        "SHOP_ENV_FILE": "",  # no `.env` in a function: settings come from here only
        "SHOP_KEYS_DIR": LAMBDA_KEYS_DIR,
        "SHOP_KEYS_SECRET_PREFIX": names.keys_secret_prefix,
        "SHOP_MAIL_BACKEND": "ses",
    }
    broker_endpoint = params.get(names.parameter("broker", "endpoint"))
    if broker_endpoint:
        vhost = params.get(names.parameter("broker", "vhost"), "/")
        shared["SHOP_AMQP_URL"] = f"{broker_endpoint}/{quote(vhost, safe='')}"
    for service in services:
        url = params.get(names.parameter(service, "url"))
        if url:
            shared[f"SHOP_{service.upper()}_SERVICE_URL"] = url

    result: dict[str, dict[str, str]] = {}
    for service in services:
        own = dict(shared)
        prefix = f"SHOP_{service.upper()}_"
        database = store.secret(names.database_secret(service))
        database_endpoint = params.get(names.parameter("database", "endpoint"))
        if database and database_endpoint:
            dbname = json.loads(database)["dbname"]
            own[prefix + "DATABASE_URL"] = f"postgresql+pg8000://{database_endpoint}/{dbname}"
            own[prefix + "DATABASE_SECRET"] = names.database_secret(service)
        redis_endpoint = params.get(names.parameter("redis", "endpoint"))
        if redis_endpoint:
            database_index = params.get(names.parameter(service, "redis_db"), "0")
            own[prefix + "REDIS_URL"] = f"redis://{redis_endpoint}/{database_index}"
            if names.redis_secret(service) in secret_names:
                own[prefix + "REDIS_SECRET"] = names.redis_secret(service)
        if names.broker_user_secret(service) in secret_names:
            own[prefix + "AMQP_SECRET"] = names.broker_user_secret(service)
        result[service] = own
    return result


def expected_parameters(
    names: CloudNames, services: list[str], databases: list[str], with_url: list[str]
) -> list[str]:
    """What `seed` and `publish_service_url` leave in SSM for these apps."""
    found = [names.parameter("redis", "endpoint"), names.parameter("broker", "endpoint"),
             names.parameter("broker", "vhost")]
    found += [names.parameter("database", "endpoint")] if databases else []
    found += [names.parameter(s, "redis_db") for s in services]
    found += [names.parameter(s, "url") for s in with_url]
    return sorted(found)


def expected_secrets(names: CloudNames, databases: Sequence[str],
                     redis_users: Sequence[str] = (), broker_users: Sequence[str] = ()
                     ) -> list[str]:
    """The names of the secrets a deploy of these apps leaves, sorted: the broker
    administrator's, each database's, each Redis and broker user's, and both halves of every
    signing key.
    """
    found = [names.broker_secret, *(names.database_secret(s) for s in databases)]
    found += [names.redis_secret(s) for s in redis_users]
    found += [names.broker_user_secret(s) for s in broker_users]
    for key in all_key_names():
        found += [names.private_key_secret(key), names.public_key_secret(key)]
    return sorted(found)


def services_with_database(env: dict[str, str], services: list[str]) -> list[str]:
    """The services among `services` whose SHOP_<SERVICE>_DATABASE_URL is set in `env`."""
    return [s for s in services if env.get(f"SHOP_{s.upper()}_DATABASE_URL")]


def services_with_user(env: dict[str, str], services: list[str], kind: str) -> list[str]:
    """The services whose `kind` URL (REDIS, AMQP) names a user: they get a secret."""
    return [s for s in services
            if credentials_of(env.get(f"SHOP_{s.upper()}_{kind}_URL", "")) is not None]
