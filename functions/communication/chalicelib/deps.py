"""The communication service's long-lived parts, built on first use (never at import)."""

from __future__ import annotations

from functools import cache

from chalicelib import SERVICE
from chalicelib.delivery import DeliveryDeps
from chalicelib.mailers import Mailer, create_mailer
from shop_common.runtime import ServiceRuntime, get_runtime


def runtime() -> ServiceRuntime:
    return get_runtime(SERVICE)


@cache
def mailer() -> Mailer:
    return create_mailer(runtime().settings)


def delivery_deps() -> DeliveryDeps:
    settings = runtime().settings
    return DeliveryDeps(
        sessions=runtime().sessions, mailer=mailer(), sender=settings.mail_sender,
        amqp_url=str(settings.amqp_url),
        park_timeout_seconds=settings.amqp_publish_timeout_seconds,
    )
