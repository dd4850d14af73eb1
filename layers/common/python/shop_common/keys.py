"""Signing keys: generated once into the keys folder, loaded and checked at start.

Layout of the keys folder (PEM files):
- `user-tokens.pem` / `.pub.pem`: signs user tokens; only the user service holds the private half.
- `service-<name>.pem` / `.pub.pem`: each service's own identity for service tokens.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from shop_common.config import SERVICES, SettingsError

USER_TOKENS_KEY = "user-tokens"
MIN_RSA_BITS = 2048

SigningKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
VerifyingKey = ed25519.Ed25519PublicKey | rsa.RSAPublicKey


def service_key_name(service: str) -> str:
    """The key-pair name of `service`'s identity: `service-<service>` (`.pem`, `.pub.pem`)."""
    return f"service-{service}"


def all_key_names() -> list[str]:
    """Every key-pair name the shop needs: `user-tokens`, then `service-<name>` per service."""
    return [USER_TOKENS_KEY, *(service_key_name(s) for s in SERVICES)]


def generate_keys(keys_dir: Path) -> list[str]:
    """Create every missing key pair; return the names created. Existing keys are kept."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    created = []
    for name in all_key_names():
        private_path = keys_dir / f"{name}.pem"
        if private_path.exists():
            continue
        private_key = ed25519.Ed25519PrivateKey.generate()
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        (keys_dir / f"{name}.pub.pem").write_bytes(
            private_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        created.append(name)
    return created


def _check_strength(key: PrivateKeyTypes | PublicKeyTypes, path: Path) -> None:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise SettingsError(
                f"SHOP_KEYS_DIR: {path} is a weak RSA key ({key.key_size} bits, "
                f"at least {MIN_RSA_BITS} required)"
            )
        return
    if not isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        raise SettingsError(f"SHOP_KEYS_DIR: {path} must be an Ed25519 or RSA key")


def parse_private_key(pem: bytes, path: Path) -> SigningKey:
    """A PEM private key, checked; `path` only names it in the error."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except ValueError as exc:
        raise SettingsError(f"SHOP_KEYS_DIR: {path} is not a PEM private key: {exc}") from None
    _check_strength(key, path)
    assert isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey)
    return key


def parse_public_key(pem: bytes, path: Path) -> VerifyingKey:
    """A PEM public key, checked; `path` only names it in the error."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise SettingsError(f"SHOP_KEYS_DIR: {path} is not a PEM public key: {exc}") from None
    _check_strength(key, path)
    assert isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey)
    return key


def load_private_key(keys_dir: Path, name: str) -> SigningKey:
    """The checked private key `<keys_dir>/<name>.pem` (PEM, unencrypted; Ed25519 or RSA).

    Raises SettingsError when the file is missing, is not a PEM private key, or holds a key
    of another algorithm or an RSA key shorter than 2048 bits (`MIN_RSA_BITS`).
    """
    path = keys_dir / f"{name}.pem"
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise SettingsError(
            f"SHOP_KEYS_DIR: signing key {path} is missing (`make run` or `shop setup` "
            "generates the keys)"
        ) from None
    return parse_private_key(pem, path)


def load_public_key(keys_dir: Path, name: str) -> VerifyingKey:
    """The checked public key `<keys_dir>/<name>.pub.pem` (PEM SubjectPublicKeyInfo).

    Raises SettingsError when the file is missing, is not a PEM public key, or is not an
    Ed25519 key or an RSA key of at least 2048 bits.
    """
    path = keys_dir / f"{name}.pub.pem"
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise SettingsError(f"SHOP_KEYS_DIR: public key {path} is missing") from None
    return parse_public_key(pem, path)


@dataclass(frozen=True)
class KeyRing:
    """The keys one service process holds."""

    service: str
    service_key: SigningKey
    user_token_public: VerifyingKey
    service_publics: dict[str, VerifyingKey]
    user_token_private: SigningKey | None = None

    @classmethod
    def load(cls, keys_dir: Path, service: str) -> KeyRing:
        """The keys `service` holds, read from `keys_dir`.

        Its own service private key and the user-token public key must exist; the public keys of
        the other services are loaded for those whose `.pub.pem` exists. Only `service == "user"`
        also gets the user-token private key. Raises SettingsError as `load_private_key` and
        `load_public_key` do.
        """
        return cls(
            service=service,
            service_key=load_private_key(keys_dir, service_key_name(service)),
            user_token_public=load_public_key(keys_dir, USER_TOKENS_KEY),
            service_publics={
                s: load_public_key(keys_dir, service_key_name(s))
                for s in SERVICES
                if (keys_dir / f"{service_key_name(s)}.pub.pem").exists()
            },
            # Only the user service signs user tokens.
            user_token_private=(
                load_private_key(keys_dir, USER_TOKENS_KEY) if service == "user" else None
            ),
        )
