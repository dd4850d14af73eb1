"""What the foundation writes to disk: keys, `.env`, and settings read from a `.env`.

Filesystem only (temporary folders); no database, broker or network.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dotenv import dotenv_values

from shop_common.config import SettingsError, load_settings
from shop_common.keys import (
    KeyRing,
    all_key_names,
    generate_keys,
    load_private_key,
    load_public_key,
    service_key_name,
)
from shop_local.envfile import GENERATED, ensure_env_file

pytestmark = pytest.mark.integration

EXAMPLE = """\
# comment
SHOP_SUPERADMIN_EMAIL=admin@example.com
SHOP_SUPERADMIN_PASSWORD=
SHOP_KEYS_DIR=var/keys
SHOP_USER_DATABASE_URL=postgresql+pg8000://shop_user:__GENERATED__@127.0.0.1:5432/shop_user
SHOP_ORDER_DATABASE_URL=postgresql+pg8000://shop_order:__GENERATED__@127.0.0.1:5432/shop_order
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write_weak_rsa_key(keys_dir: Path, name: str) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (on purpose)
    (keys_dir / f"{name}.pem").write_bytes(weak.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    (keys_dir / f"{name}.pub.pem").write_bytes(weak.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo,
    ))


def test_can_generate_every_key_once_with_private_files_readable_only_by_the_owner(
    tmp_path: Path,
) -> None:
    keys_dir = tmp_path / "keys"
    assert sorted(generate_keys(keys_dir)) == sorted(all_key_names())
    assert mode(keys_dir) == 0o700
    for name in all_key_names():
        assert mode(keys_dir / f"{name}.pem") == 0o600
        assert (keys_dir / f"{name}.pub.pem").is_file()
    before = {p.name: p.read_bytes() for p in keys_dir.iterdir()}

    assert generate_keys(keys_dir) == []  # a second run keeps every key as it is
    assert {p.name: p.read_bytes() for p in keys_dir.iterdir()} == before


def test_can_generate_only_the_missing_key(tmp_path: Path) -> None:
    generate_keys(tmp_path)
    (tmp_path / "service-order.pem").unlink()
    assert generate_keys(tmp_path) == ["service-order"]


def test_can_load_the_keys_a_service_holds(tmp_path: Path) -> None:
    generate_keys(tmp_path)
    user = KeyRing.load(tmp_path, "user")
    product = KeyRing.load(tmp_path, "product")
    assert user.user_token_private is not None
    assert product.user_token_private is None  # only the user service signs user tokens
    assert set(product.service_publics) == {"user", "product", "order", "communication"}


def test_missing_key_names_the_setting_and_the_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as error:
        KeyRing.load(tmp_path, "user")
    message = str(error.value)
    assert "SHOP_KEYS_DIR" in message and str(tmp_path / "service-user.pem") in message
    with pytest.raises(SettingsError, match=r"SHOP_KEYS_DIR: public key .* is missing"):
        load_public_key(tmp_path, "user-tokens")


def test_weak_rsa_key_file_is_refused(tmp_path: Path) -> None:
    generate_keys(tmp_path)
    write_weak_rsa_key(tmp_path, service_key_name("user"))
    with pytest.raises(SettingsError, match=r"SHOP_KEYS_DIR: .*service-user\.pem is a weak RSA"):
        load_private_key(tmp_path, service_key_name("user"))
    with pytest.raises(SettingsError, match="weak RSA key"):
        KeyRing.load(tmp_path, "product")  # even another service's public half is refused


def test_can_create_env_file_with_generated_secrets(tmp_path: Path) -> None:
    example = tmp_path / ".env.example"
    example.write_text(EXAMPLE)
    env_file = tmp_path / ".env"

    result = ensure_env_file(env_file, example)

    assert result.created
    text = env_file.read_text()
    assert GENERATED not in text
    assert mode(env_file) == 0o600
    values = dotenv_values(env_file)
    user_secret = str(values["SHOP_USER_DATABASE_URL"]).split(":")[2].split("@")[0]
    order_secret = str(values["SHOP_ORDER_DATABASE_URL"]).split(":")[2].split("@")[0]
    assert len(user_secret) >= 20 and user_secret != order_secret
    # The superadmin's password is generated into .env and handed back once, to print.
    assert result.superadmin_password
    assert values["SHOP_SUPERADMIN_PASSWORD"] == result.superadmin_password
    assert "# comment" in text  # the example's comments survive


def test_can_keep_an_existing_env_file_and_its_password(tmp_path: Path) -> None:
    example = tmp_path / ".env.example"
    example.write_text(EXAMPLE)
    env_file = tmp_path / ".env"
    first = ensure_env_file(env_file, example)
    before = env_file.read_text()

    second = ensure_env_file(env_file, example)

    assert not second.created and second.superadmin_password is None
    assert env_file.read_text() == before
    assert dotenv_values(env_file)["SHOP_SUPERADMIN_PASSWORD"] == first.superadmin_password


def test_can_bring_an_older_env_file_up_to_date_keeping_its_secrets(tmp_path: Path) -> None:
    # An .env from before per-service broker and cache users, and metrics auth.
    env_file = tmp_path / ".env"
    env_file.write_text(
        "SHOP_SUPERADMIN_PASSWORD=kept-as-it-is-1\n"
        "SHOP_USER_DATABASE_URL=postgresql+pg8000://shop_user:old-secret@127.0.0.1/shop_user\n"
        "SHOP_USER_REDIS_URL=redis://127.0.0.1:6379/1\n"
        "SHOP_AMQP_URL=amqp://guest:guest@127.0.0.1:5672/shop\n"
        "SHOP_LOG_LEVEL=DEBUG\n")
    example = tmp_path / ".env.example"
    example.write_text(EXAMPLE + (
        "SHOP_USER_AMQP_URL=amqp://shop-user:__GENERATED__@127.0.0.1:5672/shop\n"
        "SHOP_USER_REDIS_URL=redis://shop-user:__GENERATED__@127.0.0.1:6379/1\n"
        "SHOP_METRICS_PASSWORD=__GENERATED__\n"))

    result = ensure_env_file(env_file, example)

    values = dotenv_values(env_file)
    assert sorted(result.updated) == sorted([
        "SHOP_ORDER_DATABASE_URL", "SHOP_USER_AMQP_URL", "SHOP_USER_REDIS_URL",
        "SHOP_METRICS_PASSWORD", "SHOP_AMQP_URL"])
    assert "SHOP_AMQP_URL" not in values  # the guest URL is gone
    assert str(values["SHOP_USER_DATABASE_URL"]).endswith(":old-secret@127.0.0.1/shop_user")
    assert str(values["SHOP_USER_REDIS_URL"]).startswith("redis://shop-user:")
    assert GENERATED not in env_file.read_text()
    assert values["SHOP_SUPERADMIN_PASSWORD"] == "kept-as-it-is-1"
    assert values["SHOP_LOG_LEVEL"] == "DEBUG"
    assert mode(env_file) == 0o600
    before = env_file.read_text()
    assert ensure_env_file(env_file, example).updated == []  # nothing more to do
    assert env_file.read_text() == before


def test_can_fill_in_an_emptied_superadmin_password_only(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SHOP_SUPERADMIN_EMAIL=root@example.com\nSHOP_SUPERADMIN_PASSWORD=\n"
                        "SHOP_LOG_LEVEL=DEBUG\n")
    result = ensure_env_file(env_file, tmp_path / "unused.example")
    values = dotenv_values(env_file)
    assert not result.created and result.superadmin_password
    assert values["SHOP_SUPERADMIN_PASSWORD"] == result.superadmin_password
    assert values["SHOP_LOG_LEVEL"] == "DEBUG"

    env_file.write_text("SHOP_SUPERADMIN_PASSWORD=chosen-by-me-42\n")
    assert ensure_env_file(env_file, tmp_path / "unused.example").superadmin_password is None
    assert dotenv_values(env_file)["SHOP_SUPERADMIN_PASSWORD"] == "chosen-by-me-42"


def test_can_read_settings_from_an_env_file_with_keys_relative_to_it(tmp_path: Path) -> None:
    env_file = tmp_path / "project" / ".env"
    env_file.parent.mkdir()
    env_file.write_text(
        "SHOP_KEYS_DIR=var/keys\n"
        "SHOP_LOG_LEVEL=WARNING\n"
        "SHOP_USER_DATABASE_URL=postgresql+pg8000://u:p@127.0.0.1:5432/u\n"
    )
    settings = load_settings("user", {"SHOP_ENV_FILE": str(env_file), "SHOP_LOG_LEVEL": "DEBUG"})
    assert settings.keys_dir == tmp_path / "project" / "var" / "keys"
    assert settings.log_level == "DEBUG"  # the environment wins over the file
    assert str(settings.database_url).endswith("/u")


def test_can_find_the_nearest_env_file_upwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `chalice local` runs in functions/<service>/ and must find the project's .env.
    (tmp_path / ".env").write_text(
        "SHOP_KEYS_DIR=var/keys\nSHOP_USER_DATABASE_URL=postgresql+pg8000://u:p@h:5432/u\n"
    )
    app_dir = tmp_path / "functions" / "user"
    app_dir.mkdir(parents=True)
    monkeypatch.chdir(app_dir)
    settings = load_settings("user", {})
    assert settings.keys_dir == tmp_path / "var" / "keys"


def test_empty_env_file_setting_reads_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("SHOP_USER_DATABASE_URL=postgresql+pg8000://u:p@h:5432/u\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match="SHOP_USER_DATABASE_URL"):
        load_settings("user", {"SHOP_ENV_FILE": ""})
