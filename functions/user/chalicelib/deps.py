"""The user service's long-lived parts, built on first use (never at import)."""

from __future__ import annotations

from functools import cache

from chalicelib.throttle import LoginThrottle
from shop_common.runtime import ServiceRuntime, get_runtime

SERVICE = "user"


def runtime() -> ServiceRuntime:
    return get_runtime(SERVICE)


@cache
def login_throttle() -> LoginThrottle:
    settings = runtime().settings
    return LoginThrottle(
        runtime().redis, settings.redis_namespace,
        settings.login_max_failures, settings.login_lockout_seconds,
    )
