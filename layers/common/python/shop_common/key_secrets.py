"""Signing keys from AWS Secrets Manager, for functions that have no `var/keys/`.

`shop deploy` stores every PEM as a secret: `<prefix>private/<key>` and
`<prefix>public/<key>`. At cold start a function fetches only what its IAM policy
lets it read — its own service key, every public key, and (user service only) the
user-token private key — and writes them where `KeyRing.load` looks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from shop_common.config import SERVICES, SettingsError
from shop_common.keys import USER_TOKENS_KEY, service_key_name


def secrets_for(service: str) -> dict[str, str]:
    """File name → secret suffix for what this service needs."""
    private = [service_key_name(service)] + ([USER_TOKENS_KEY] if service == "user" else [])
    public = [USER_TOKENS_KEY, *(service_key_name(s) for s in SERVICES)]
    wanted = {f"{name}.pem": f"private/{name}" for name in private}
    wanted.update({f"{name}.pub.pem": f"public/{name}" for name in public})
    return wanted


def fetch_keys_from_secrets(prefix: str, keys_dir: Path, service: str,
                            client: Any | None = None) -> None:
    """Write the PEM files `service` needs from AWS Secrets Manager into `keys_dir`.

    Each secret `<prefix>private/<key>` or `<prefix>public/<key>` (see `secrets_for`) is read
    with GetSecretValue (its SecretString) and written with mode 0600; files already there
    are kept. `client` is a boto3 Secrets Manager client (made when None). Raises
    SettingsError naming the secret when one cannot be read.
    """
    if client is None:
        import boto3  # only functions in the cloud get here; keep it off local imports

        client = boto3.client("secretsmanager")
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for file_name, suffix in secrets_for(service).items():
        target = keys_dir / file_name
        if target.exists():
            continue  # a warm container fetched it already
        try:
            value = client.get_secret_value(SecretId=prefix + suffix)["SecretString"]
        except Exception as exc:  # boto3 raises many error classes; all mean "no key"
            raise SettingsError(
                f"SHOP_KEYS_SECRET_PREFIX: cannot read secret {prefix + suffix}: {exc}"
            ) from None
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
