"""Numbers read from a setting (`.env`, the environment): a port, seconds, a URL's port.

Each reader returns the number, or raises SettingsError with one line that names the
variable, its value (a URL's password hidden) and what it must be, e.g.
`SHOP_SMTP_PORT: 'x' is not a port number (1 to 65535)`; `check_each` runs several
readers and gathers one such line per bad setting. Light on purpose (no pydantic):
`shop` reads these before anything heavy is imported.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlsplit

from shop_common.redaction import redact_text

MAX_PORT = 65535


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable (one line per bad
    setting).
    """


def _given(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _port_number(text: str) -> int | None:
    """`text` as a TCP port (1 to 65535), or None when it is not one."""
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PORT:
        return None
    return int(text)


def port_setting(env: Mapping[str, str], name: str, default: int) -> int:
    """`env[name]` as a TCP port, 1 to 65535; `default` when it is unset or blank."""
    raw = _given(env, name)
    if not raw:
        return default
    port = _port_number(raw)
    if port is None:
        raise SettingsError(f"{name}: {raw!r} is not a port number (1 to {MAX_PORT})")
    return port


def seconds_setting(env: Mapping[str, str], name: str, default: float) -> float:
    """`env[name]` as a number of seconds, more than 0 (`0.5` too); `default` when it is unset
    or blank.
    """
    raw = _given(env, name)
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise SettingsError(f"{name}: {raw!r} is not a number of seconds (more than 0)")
    return seconds


def url_port_setting(env: Mapping[str, str], name: str, default_url: str = "",
                     default_port: int | None = None) -> int:
    """The port of the URL `env[name]` gives (`default_url` when it is unset or blank): the
    one it names, else `default_port`. SettingsError when that port is not a number from 1
    to 65535, or when the URL names none and there is no `default_port`.
    """
    url = _given(env, name) or default_url
    shown = redact_text(url)  # never a password in the message
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number, or out of range; an unbalanced "["
        raise SettingsError(f"{name}: {shown!r} names a port that is not a number from 1 to "
                            f"{MAX_PORT}") from None
    if port is None and default_port is not None and parts.hostname:
        return default_port
    if port is None:
        raise SettingsError(f"{name}: {shown!r} is not a URL with a port "
                            "(scheme://host:port)")
    if not 1 <= port <= MAX_PORT:
        raise SettingsError(f"{name}: {shown!r} names a port that is not a number from 1 to "
                            f"{MAX_PORT}")
    return port


def check_each(readers: Iterable[Callable[[], object]]) -> None:
    """Call every reader; SettingsError with one line per SettingsError they raised."""
    problems = []
    for read in readers:
        try:
            read()
        except SettingsError as exc:
            problems.append(str(exc))
    if problems:
        raise SettingsError("\n".join(problems))
