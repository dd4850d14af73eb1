"""The order service's long-lived parts, built on first use (never at import)."""

from __future__ import annotations

from functools import cache

from chalicelib import SERVICE
from chalicelib.intake import IntakeDeps
from shop_common.runtime import ServiceRuntime, get_runtime
from shop_common.service_client import ServiceClient


def runtime() -> ServiceRuntime:
    return get_runtime(SERVICE)


@cache
def user_client() -> ServiceClient:
    return ServiceClient(runtime().settings, runtime().keys)


def intake_deps() -> IntakeDeps:
    return IntakeDeps(runtime(), user_client())
