"""The communication service's long-lived parts, built on first use (never at import)."""

from __future__ import annotations

from functools import cache

from chalicelib import SERVICE
from chalicelib.mailers import Mailer, create_mailer
from shop_common.runtime import ServiceRuntime, get_runtime


def runtime() -> ServiceRuntime:
    return get_runtime(SERVICE)


@cache
def mailer() -> Mailer:
    return create_mailer(runtime().settings)
