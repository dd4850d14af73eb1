"""The local stack's `.env`: created from `.env.example` on first run, secrets generated.

An `.env` made by an older checkout is brought up to date on every run: a setting of
`.env.example` that carries a generated secret is added when `.env` lacks it, or when
`.env` holds it as a URL without a password where the example has one (a service that
now has users of its own in the broker and the cache). A shared broker URL naming the
broker's `guest` account is removed: nothing may use it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values, set_key, unset_key

GENERATED = "__GENERATED__"
OBSOLETE_GUEST_URL = "SHOP_AMQP_URL"


@dataclass(frozen=True)
class EnvFileResult:
    """What `ensure_env_file` did: whether it created the file, the superadmin password it
    generated (None unless generated now: shown once), and the settings it added, replaced or
    removed.
    """
    path: Path
    created: bool
    superadmin_password: str | None  # set only when generated now, to be shown once
    updated: list[str] = field(default_factory=list)  # settings added, replaced or removed


def generate_secrets(text: str) -> str:
    """`text` with every `__GENERATED__` in a setting replaced by its own random URL-safe
    secret (18 random bytes: 24 characters); comment lines, which explain the marker, are
    left as they are.
    """
    lines = text.splitlines(keepends=True)
    for number, line in enumerate(lines):
        if line.lstrip().startswith("#"):
            continue
        while GENERATED in line:
            line = line.replace(GENERATED, secrets.token_urlsafe(18), 1)
        lines[number] = line
    return "".join(lines)


def _lacks_credentials(current: str, example: str) -> bool:
    """A URL setting whose example has a password while the current value has none."""
    try:
        return urlsplit(example).password is not None and urlsplit(current).password is None
    except ValueError:
        return False


def update_env_file(env_file: Path, example: Path) -> list[str]:
    """Add or replace the generated settings `.env` misses; return the names changed."""
    current = dotenv_values(env_file)
    changed = []
    for key, value in dotenv_values(example).items():
        if value is None or GENERATED not in value:
            continue
        present = current.get(key)
        if present is None or _lacks_credentials(present, value):
            set_key(str(env_file), key, generate_secrets(value), quote_mode="never")
            changed.append(key)
    obsolete = current.get(OBSOLETE_GUEST_URL)
    if obsolete and urlsplit(obsolete).username == "guest":
        unset_key(str(env_file), OBSOLETE_GUEST_URL)
        changed.append(OBSOLETE_GUEST_URL)
    if changed:
        env_file.chmod(0o600)
    return changed


def ensure_env_file(env_file: Path, example: Path) -> EnvFileResult:
    """Create `env_file` from `example` (secrets generated, mode 0600) or bring an existing one
    up to date (`update_env_file`), and generate SHOP_SUPERADMIN_PASSWORD when it is empty.
    OSError when a file cannot be read or written.
    """
    created = False
    updated: list[str] = []
    if not env_file.exists():
        env_file.write_text(generate_secrets(example.read_text()))
        env_file.chmod(0o600)
        created = True
    else:
        updated = update_env_file(env_file, example)
    password = None
    if not dotenv_values(env_file).get("SHOP_SUPERADMIN_PASSWORD"):
        password = secrets.token_urlsafe(18)
        set_key(str(env_file), "SHOP_SUPERADMIN_PASSWORD", password, quote_mode="never")
    return EnvFileResult(env_file, created, password, updated)


def read_env(env_file: Path) -> dict[str, str]:
    """The settings of a dotenv file, name to value (`NAME` lines without a value left out).
    OSError when it cannot be read.
    """
    return {k: v for k, v in dotenv_values(env_file).items() if v is not None}
