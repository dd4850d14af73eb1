"""A service process with a bad setting stops at start, says which setting, exits non-zero."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shop_local.paths import ROOT
from tests.support.stack import ThrowawayStack, free_port

pytestmark = pytest.mark.integration


def start_user_service(stack: ThrowawayStack, **overrides: str) -> subprocess.CompletedProcess[str]:
    port = free_port()
    return subprocess.run(
        [sys.executable, "-m", "shop_local.runtime.host", "--service", "user", "--port", str(port)],
        env=stack.process_env(**overrides), cwd=ROOT,
        capture_output=True, text=True, timeout=60, check=False,
    )


def keys_with_weak_service_key(stack: ThrowawayStack, folder: Path) -> Path:
    keys = folder / "weak-keys"
    shutil.copytree(stack.env["SHOP_KEYS_DIR"], keys)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (on purpose)
    (keys / "service-user.pem").write_bytes(weak.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    (keys / "service-user.pub.pem").write_bytes(weak.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo,
    ))
    return keys


def assert_refused(result: subprocess.CompletedProcess[str], *names: str) -> str:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "refusing to start" in output, output
    for name in names:
        assert name in output, output
    assert "Traceback" not in output, output  # a message, not a crash
    return output


def test_refuses_to_start_without_its_signing_key(stack: ThrowawayStack, tmp_path: Path) -> None:
    empty = tmp_path / "no-keys"
    empty.mkdir()
    output = assert_refused(
        start_user_service(stack, SHOP_KEYS_DIR=str(empty)), "SHOP_KEYS_DIR", "missing"
    )
    assert str(empty / "service-user.pem") in output


def test_refuses_to_start_with_a_weak_rsa_key(stack: ThrowawayStack, tmp_path: Path) -> None:
    keys = keys_with_weak_service_key(stack, tmp_path)
    output = assert_refused(
        start_user_service(stack, SHOP_KEYS_DIR=str(keys)), "SHOP_KEYS_DIR", "weak RSA key"
    )
    assert "1024" in output


@pytest.mark.parametrize("bad_url", [
    "postgres//no-scheme-separator",
    "mysql://shop_user:pw@127.0.0.1/shop_user",
])
def test_refuses_to_start_with_a_malformed_database_url(
    stack: ThrowawayStack, bad_url: str
) -> None:
    assert_refused(
        start_user_service(stack, SHOP_USER_DATABASE_URL=bad_url), "SHOP_USER_DATABASE_URL"
    )
