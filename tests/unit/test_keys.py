"""Key checks that need no files: parsing PEM bytes and refusing weak or odd keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from shop_common.config import SettingsError
from shop_common.keys import all_key_names, parse_private_key, parse_public_key

PATH = Path("/keys/service-user.pem")


def private_pem(key: object) -> bytes:
    return key.private_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(key: object) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_can_parse_an_ed25519_key_pair() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    assert isinstance(parse_private_key(private_pem(key), PATH), ed25519.Ed25519PrivateKey)
    assert isinstance(parse_public_key(public_pem(key), PATH), ed25519.Ed25519PublicKey)


def test_can_parse_a_2048_bit_rsa_key() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert parse_private_key(private_pem(key), PATH).key_size == 2048  # type: ignore[union-attr]


def test_weak_rsa_key_is_refused_naming_the_setting() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (on purpose)
    cases = ((parse_private_key, private_pem(weak)), (parse_public_key, public_pem(weak)))
    for parse, pem in cases:
        with pytest.raises(SettingsError) as error:
            parse(pem, PATH)  # type: ignore[operator]
        message = str(error.value)
        assert "SHOP_KEYS_DIR" in message and "1024" in message and str(PATH) in message


def test_key_of_another_kind_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(SettingsError, match=r"SHOP_KEYS_DIR: .* Ed25519 or RSA"):
        parse_private_key(private_pem(key), PATH)


def test_garbage_is_refused_naming_the_setting_and_file() -> None:
    with pytest.raises(SettingsError, match=r"SHOP_KEYS_DIR: /keys/service-user.pem is not"):
        parse_private_key(b"-----BEGIN PRIVATE KEY-----\nnope\n", PATH)


def test_every_service_and_the_user_tokens_have_a_key_name() -> None:
    assert set(all_key_names()) == {
        "user-tokens", "service-user", "service-product", "service-order",
        "service-communication",
    }
