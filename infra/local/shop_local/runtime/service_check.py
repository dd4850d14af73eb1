"""The check a runtime process makes before it serves a shop service's functions.

The functions themselves read the settings and keys in their execution environments;
the runtime process (an HTTP host, the MQ emulator) only checks them so that a bad
setting or a missing key stops it at start, naming what is wrong. It imports only the
settings and key modules: the database and Redis clients stay in the environments, so
the long-lived process does not carry them (~20 MB per process).
"""

from __future__ import annotations

from shop_common.config import Settings, SettingsError, load_settings
from shop_common.keys import KeyRing


class ServiceRefused(Exception):
    """A setting or a key of the service is unusable; the message names it."""


def check_service(service: str) -> Settings:
    """The service's settings, once its settings and keys load; raises ServiceRefused."""
    try:
        settings = load_settings(service)
        KeyRing.load(settings.keys_dir, service)
    except SettingsError as exc:
        raise ServiceRefused(str(exc)) from None
    return settings
