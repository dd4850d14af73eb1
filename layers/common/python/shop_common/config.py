"""Typed settings, read once per process and validated before anything starts.

Settings come from the environment (in the cloud: the Lambda configuration) and,
on a developer's machine, from the project's `.env`. A service reads its own
`SHOP_<SERVICE>_<NAME>` variables first, then the stack-wide `SHOP_<NAME>` ones,
so one `.env` can describe the whole local stack.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from dotenv import dotenv_values
from pydantic import AnyUrl, BaseModel, ConfigDict, Field, HttpUrl, UrlConstraints, ValidationError

SERVICES = ("user", "product", "order", "communication")

PostgresUrl = Annotated[
    AnyUrl, UrlConstraints(allowed_schemes=["postgresql+pg8000"], host_required=True)
]
RedisUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["redis", "rediss"])]
AmqpUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["amqp", "amqps"])]


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    service_name: str
    database_url: PostgresUrl
    redis_url: RedisUrl = AnyUrl("redis://127.0.0.1:6379/0")
    redis_prefix: str = ""
    amqp_url: AmqpUrl = AnyUrl("amqp://guest:guest@127.0.0.1:5672/shop")
    keys_dir: Path = Path("var/keys")
    user_service_url: HttpUrl = HttpUrl("http://127.0.0.1:8001")
    product_service_url: HttpUrl = HttpUrl("http://127.0.0.1:8002")
    order_service_url: HttpUrl = HttpUrl("http://127.0.0.1:8003")
    token_issuer: str = "shop-user-service"
    token_audience: str = "shop"
    access_token_ttl_seconds: int = Field(default=900, gt=0, le=3600)
    service_token_ttl_seconds: int = Field(default=60, gt=0, le=60)
    db_lock_timeout_ms: int = Field(default=2000, gt=0)
    db_statement_timeout_ms: int = Field(default=10000, gt=0)
    db_pool_size: int = Field(default=10, gt=0)
    login_max_failures: int = Field(default=5, gt=0)
    login_lockout_seconds: int = Field(default=300, gt=0)
    log_level: str = "INFO"

    @property
    def redis_namespace(self) -> str:
        return self.redis_prefix or f"shop:{self.service_name}:"


def find_env_file(start: Path | None = None) -> Path | None:
    """The `.env` the local stack uses: `SHOP_ENV_FILE`, else the nearest one upwards.

    `chalice local` runs inside `functions/<service>/`, so searching upwards lets it
    find the same `.env` as `shop up` without any extra configuration.
    """
    explicit = os.environ.get("SHOP_ENV_FILE")
    if explicit is not None:
        return Path(explicit) if explicit else None
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / ".env"
        if candidate.is_file():
            return candidate
    return None


def gather_environment(service: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Merge `.env` and the environment into field names, service-specific names winning."""
    env_file = find_env_file()
    merged: dict[str, str] = {}
    if env_file is not None:
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ if environ is None else environ)

    own_prefix = f"SHOP_{service.upper()}_"
    other_prefixes = tuple(f"SHOP_{s.upper()}_" for s in SERVICES if s != service)
    shared = {
        key[len("SHOP_"):].lower(): value
        for key, value in merged.items()
        if key.startswith("SHOP_") and not key.startswith((own_prefix, *other_prefixes))
    }
    own = {
        key[len(own_prefix):].lower(): value
        for key, value in merged.items()
        if key.startswith(own_prefix)
    }
    fields = {**shared, **own}
    if env_file is not None and "keys_dir" in fields and not Path(fields["keys_dir"]).is_absolute():
        fields["keys_dir"] = str(env_file.parent / fields["keys_dir"])
    return fields


def load_settings(service: str, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings of one service; raise SettingsError naming the variable."""
    if service not in SERVICES:
        raise SettingsError(f"SHOP_SERVICE_NAME: unknown service {service!r}")
    fields = gather_environment(service, environ)
    fields["service_name"] = service
    try:
        return Settings.model_validate(fields)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "?"
            variable = f"SHOP_{service.upper()}_{name.upper()} (or SHOP_{name.upper()})"
            problems.append(f"{variable}: {error['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
