"""The long-lived parts of one service process, built once on first use.

Nothing here runs at import time: `chalice package` and the tests import `app.py`
without any database. The local host calls `get_runtime` before it serves, so a
bad setting or a missing key stops the process at start, naming the setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shop_common.cache import RedisClient, create_redis
from shop_common.config import Settings, gather_environment, validate_settings
from shop_common.credential_secrets import fill_credentials
from shop_common.db import create_db_engine
from shop_common.key_secrets import fetch_keys_from_secrets
from shop_common.keys import KeyRing
from shop_common.logs import configure_logging


@dataclass(frozen=True)
class ServiceRuntime:
    """What one service process builds once: settings, keys, database engine and sessions, Redis."""

    settings: Settings
    keys: KeyRing
    engine: Engine
    sessions: sessionmaker[Session]
    redis: RedisClient

    @classmethod
    def start(cls, service: str) -> ServiceRuntime:
        """Read and validate the settings, load the keys, and build the database engine
        and Redis client of `service`.

        Raises SettingsError (a missing or invalid setting, named) or a key-loading error;
        nothing connects yet, so a database that is down fails the first request, not this.
        """
        # In the cloud the credentials come from Secrets Manager, by name, at cold start.
        settings = validate_settings(service, fill_credentials(gather_environment(service)))
        configure_logging(service, settings.log_level)
        if settings.keys_secret_prefix:
            fetch_keys_from_secrets(settings.keys_secret_prefix, settings.keys_dir, service)
        keys = KeyRing.load(settings.keys_dir, service)
        engine = create_db_engine(settings)
        return cls(
            settings=settings,
            keys=keys,
            engine=engine,
            sessions=sessionmaker(engine, expire_on_commit=False),
            redis=create_redis(settings),
        )


@cache
def get_runtime(service: str) -> ServiceRuntime:
    """The runtime of `service`, started on the first call and the same one afterwards."""
    return ServiceRuntime.start(service)
