"""Database, cache and broker credentials from AWS Secrets Manager, put into URLs at cold start.

A function in the cloud carries no password in its environment. It is given each
URL without credentials (`SHOP_<SERVICE>_DATABASE_URL=postgresql+pg8000://host:5432/db`)
and the NAME of the secret that holds them (`SHOP_<SERVICE>_DATABASE_SECRET=
shop/dev/user/database`): a JSON object with `username` and `password`, the shape
RDS, ElastiCache and Amazon MQ secrets share. At cold start `fill_credentials` reads
each named secret once and builds the full URL in memory, before the settings are
validated; nothing is written anywhere. Locally no `*_SECRET` is set and the URLs from
`.env` are used as they are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from shop_common.config import SettingsError

# Settings field holding a secret's name -> the URL field it completes.
SECRET_FIELDS = {
    "database_secret": "database_url",
    "redis_secret": "redis_url",
    "amqp_secret": "amqp_url",
}


def with_credentials(url: str, username: str, password: str) -> str:
    """`url` with `username:password@` as its user information (percent-encoded)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    userinfo = f"{quote(username, safe='')}:{quote(password, safe='')}"
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def read_credentials(client: Any, secret_name: str, variable: str) -> tuple[str, str]:
    """(username, password) of a secret; SettingsError naming the variable when unusable."""
    try:
        value = json.loads(client.get_secret_value(SecretId=secret_name)["SecretString"])
        return str(value["username"]), str(value["password"])
    except Exception as exc:  # boto3 raises many error classes; all mean "no credentials"
        raise SettingsError(
            f"{variable}: cannot read credentials from secret {secret_name}: "
            f"{type(exc).__name__}") from None


def fill_credentials(fields: Mapping[str, str], client: Any | None = None) -> dict[str, str]:
    """The settings fields with every `*_secret`'s credentials put into its URL.

    Raises SettingsError naming the variable when a secret cannot be read or names a
    URL that is not set. `client` is a Secrets Manager client (created when needed).
    """
    filled = dict(fields)
    for secret_field, url_field in SECRET_FIELDS.items():
        secret_name = fields.get(secret_field)
        if not secret_name:
            continue
        variable = f"SHOP_{secret_field.upper()}"
        url = fields.get(url_field)
        if not url:
            raise SettingsError(f"{variable} names a secret but SHOP_{url_field.upper()} "
                                "(the address it completes) is not set")
        if client is None:
            import boto3  # only functions in the cloud get here; keep it off local imports

            client = boto3.client("secretsmanager")
        username, password = read_credentials(client, secret_name, variable)
        filled[url_field] = with_credentials(url, username, password)
    return filled
