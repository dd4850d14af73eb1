"""The local stack's `.env`: created from `.env.example` on first run, secrets generated."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values, set_key

GENERATED = "__GENERATED__"


@dataclass(frozen=True)
class EnvFileResult:
    path: Path
    created: bool
    superadmin_password: str | None  # set only when generated now, to be shown once


def ensure_env_file(env_file: Path, example: Path) -> EnvFileResult:
    created = False
    if not env_file.exists():
        text = example.read_text()
        while GENERATED in text:
            text = text.replace(GENERATED, secrets.token_urlsafe(18), 1)
        env_file.write_text(text)
        env_file.chmod(0o600)
        created = True
    password = None
    if not dotenv_values(env_file).get("SHOP_SUPERADMIN_PASSWORD"):
        password = secrets.token_urlsafe(18)
        set_key(str(env_file), "SHOP_SUPERADMIN_PASSWORD", password, quote_mode="never")
    return EnvFileResult(env_file, created, password)


def read_env(env_file: Path) -> dict[str, str]:
    return {k: v for k, v in dotenv_values(env_file).items() if v is not None}
