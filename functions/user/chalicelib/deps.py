"""The user service's long-lived parts, built on first use (never at import)."""

from __future__ import annotations

from functools import cache

from chalicelib import SERVICE
from chalicelib.client_limit import ClientRateLimit
from chalicelib.throttle import LoginPolicy, LoginThrottle
from shop_common.runtime import ServiceRuntime, get_runtime


def runtime() -> ServiceRuntime:
    return get_runtime(SERVICE)


@cache
def login_throttle() -> LoginThrottle:
    settings = runtime().settings
    return LoginThrottle(runtime().redis, settings.redis_namespace,
                         LoginPolicy.from_settings(settings))


@cache
def client_limit() -> ClientRateLimit:
    settings = runtime().settings
    return ClientRateLimit(runtime().redis, settings.redis_namespace,
                           settings.auth_requests_per_client_per_minute)
