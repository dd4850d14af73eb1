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

# Defined apart, without pydantic, so that `shop` can catch it without loading pydantic.
from shop_common.setting_values import SettingsError as SettingsError

SERVICES = ("user", "product", "order", "communication")

# pg8000 is the driver the shop ships with; psycopg 3 is accepted so `make bench` can
# compare the two (it is installed only with the `bench` extra).
PostgresUrl = Annotated[
    AnyUrl, UrlConstraints(allowed_schemes=["postgresql+pg8000", "postgresql+psycopg"],
                           host_required=True)
]
RedisUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["redis", "rediss"])]
AmqpUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["amqp", "amqps"])]


class Settings(BaseModel):
    """One service's validated settings (`load_settings` reads them; see the module doc).

    Field `x` comes from `SHOP_<SERVICE>_X`, else `SHOP_X`. Immutable; unknown fields are
    ignored. Durations are in the unit their name ends with (`_seconds`, `_ms`); URLs must
    have the right scheme (`postgresql+pg8000`/`+psycopg`, `redis(s)`, `amqp(s)`, http).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    service_name: str
    database_url: PostgresUrl
    redis_url: RedisUrl = AnyUrl("redis://127.0.0.1:6379/0")
    redis_prefix: str = ""
    # No user by default: each service has a broker user of its own (never `guest`),
    # and a URL without one is refused when a connection is made.
    amqp_url: AmqpUrl = AnyUrl("amqp://127.0.0.1:5672/shop")
    # In the cloud a function is given the NAMES of Secrets Manager secrets holding
    # {"username", "password"}, and these URLs without their credentials; the
    # credentials are put into the URLs in memory at cold start
    # (shop_common.credential_secrets), so no password sits in the environment.
    database_secret: str = ""
    redis_secret: str = ""
    amqp_secret: str = ""
    keys_dir: Path = Path("var/keys")
    # In the cloud the PEM files live in Secrets Manager under this prefix and are
    # written into keys_dir at cold start (shop_common.key_secrets).
    keys_secret_prefix: str = ""
    user_service_url: HttpUrl = HttpUrl("http://127.0.0.1:8001")
    product_service_url: HttpUrl = HttpUrl("http://127.0.0.1:8002")
    order_service_url: HttpUrl = HttpUrl("http://127.0.0.1:8003")
    token_issuer: str = "shop-user-service"  # noqa: S105 (a claim value, not a secret)
    token_audience: str = "shop"  # noqa: S105 (a claim value, not a secret)
    access_token_ttl_seconds: int = Field(default=900, gt=0, le=3600)
    service_token_ttl_seconds: int = Field(default=60, gt=0, le=60)
    # Clock skew tolerated on iat/nbf/exp of every token (user and service).
    token_leeway_seconds: int = Field(default=5, ge=0, le=60)
    db_lock_timeout_ms: int = Field(default=2000, gt=0)
    db_statement_timeout_ms: int = Field(default=10000, gt=0)
    db_pool_size: int = Field(default=10, gt=0)
    # User service, login and sign-up throttling (chalicelib/throttle.py, client_limit.py):
    # failures allowed before delays begin, per account+address, account, and address;
    # the delays double from the base up to their caps; counters forget after the window.
    login_free_failures: int = Field(default=5, ge=1)
    login_account_free_failures: int = Field(default=20, ge=1)
    login_client_free_failures: int = Field(default=20, ge=1)
    login_delay_base_seconds: float = Field(default=1.0, gt=0, le=60)
    login_delay_max_seconds: int = Field(default=900, gt=0, le=86400)
    login_account_delay_max_seconds: int = Field(default=60, gt=0, le=86400)
    login_failure_window_seconds: int = Field(default=3600, gt=0, le=7 * 86400)
    # Logins plus sign-ups one client address may send per minute (each costs a hash).
    auth_requests_per_client_per_minute: int = Field(default=30, ge=1)
    # Service-to-service calls (shop_common.service_client).
    service_connect_timeout_seconds: float = Field(default=1.0, gt=0, le=10)
    service_read_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    service_call_attempts: int = Field(default=3, ge=1, le=5)
    service_retry_backoff_seconds: float = Field(default=0.1, ge=0, le=5)
    # Product service: "saga" reserves stock and commits before calling the order
    # service; "hold-lock" (the seed's strategy) keeps the row locked across the call.
    order_strategy: str = Field(default="saga", pattern="^(saga|hold-lock)$")
    catalog_cache_ttl_seconds: int = Field(default=60, gt=0, le=86400)
    reservation_settle_after_seconds: int = Field(default=60, gt=0)
    # Events (shop_common.messaging): a publish after commit gives up quickly, and a
    # failed one keeps requests off the broker for a while; the outbox relay catches up.
    amqp_publish_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    amqp_breaker_seconds: float = Field(default=5.0, ge=0, le=300)
    # Email (communication service): "smtp" locally (the SMTP sink), "ses" in the cloud.
    mail_backend: str = Field(default="smtp", pattern="^(smtp|ses)$")
    mail_sender: str = "Serverless Shop <shop@example.com>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, gt=0, lt=65536)
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    log_level: str = "INFO"

    @property
    def redis_namespace(self) -> str:
        return self.redis_prefix or f"shop:{self.service_name}:"


def find_env_file(
    start: Path | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The `.env` the local stack uses: `SHOP_ENV_FILE`, else the nearest one upwards.

    `chalice local` runs inside `functions/<service>/`, so searching upwards lets it
    find the same `.env` as `shop up` without any extra configuration. An empty
    `SHOP_ENV_FILE` means "no file" (tests use it to stay off the live stack's `.env`).
    """
    explicit = (os.environ if environ is None else environ).get("SHOP_ENV_FILE")
    if explicit is not None:
        return Path(explicit) if explicit else None
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / ".env"
        if candidate.is_file():
            return candidate
    return None


def merge_sources(
    service: str,
    environ: Mapping[str, str],
    file_values: Mapping[str, str] | None = None,
    env_file_dir: Path | None = None,
) -> dict[str, str]:
    """Settings field values from `.env` values and the environment (which wins over the file).

    `SHOP_<SERVICE>_<NAME>` beats `SHOP_<NAME>`. A name is matched against the fields,
    not by prefix alone, because some shared names begin with a service's name:
    `SHOP_ORDER_SERVICE_URL` is the shared `order_service_url`, not order's `service_url`.
    """
    known = set(Settings.model_fields)
    own_prefix = f"SHOP_{service.upper()}_"
    shared: dict[str, str] = {}
    own: dict[str, str] = {}
    for key, value in {**(file_values or {}), **environ}.items():
        if key.startswith(own_prefix) and key[len(own_prefix):].lower() in known:
            own[key[len(own_prefix):].lower()] = value
        elif key.startswith("SHOP_") and key[len("SHOP_"):].lower() in known:
            shared[key[len("SHOP_"):].lower()] = value
    fields = {**shared, **own}
    keys_dir = fields.get("keys_dir")
    if env_file_dir is not None and keys_dir and not Path(keys_dir).is_absolute():
        # Relative to the `.env`, so `shop up` and `chalice local` (run in
        # functions/<service>/) find the same keys.
        fields["keys_dir"] = str(env_file_dir / keys_dir)
    return fields


def gather_environment(service: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Merge `.env` and the environment into field names, service-specific names winning."""
    current = os.environ if environ is None else environ
    env_file = find_env_file(environ=current)
    file_values: dict[str, str] = {}
    if env_file is not None:
        file_values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    return merge_sources(
        service, current, file_values, env_file.parent if env_file is not None else None
    )


def validate_settings(service: str, fields: Mapping[str, str]) -> Settings:
    """Validate one service's field values; raise SettingsError naming each bad variable."""
    if service not in SERVICES:
        raise SettingsError(f"SHOP_SERVICE_NAME: unknown service {service!r}")
    try:
        return Settings.model_validate({**fields, "service_name": service})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "?"
            variable = f"SHOP_{service.upper()}_{name.upper()} (or SHOP_{name.upper()})"
            problems.append(f"{variable}: {error['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None


def load_settings(service: str, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings of one service; raise SettingsError naming the variable."""
    if service not in SERVICES:
        raise SettingsError(f"SHOP_SERVICE_NAME: unknown service {service!r}")
    return validate_settings(service, gather_environment(service, environ))
