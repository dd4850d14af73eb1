"""Secrets in the emulated cloud: names in environments, stage keys, private files.

The attacks this closes: the emulator's Secrets Manager answers anyone, and it held
the local stack's signing keys (a superadmin token minted with them was accepted by
the running stack); the functions carried database and broker passwords in plain
environment variables, and var/deploy/*/build/*/.chalice/config.json (0644) the same.

Runs before test_deploy_cycle.py (file order), on the same session's cloud; whatever
it changes in the cloud it repairs with a deploy.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import zipfile
from pathlib import Path

import jwt
import pytest

from shop_common.keys import USER_TOKENS_KEY, load_private_key, parse_private_key
from shop_common.tokens import issue_user_token
from tests.integration.deploy.conftest import STAGE, CloudRun, local_passwords
from tests.support.client import ShopClient
from tests.support.stack import ThrowawayStack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def environments(cloud: CloudRun) -> dict[str, dict[str, str]]:
    lam = cloud.client("lambda")
    return {name: lam.get_function_configuration(FunctionName=name)
            .get("Environment", {}).get("Variables", {})
            for app in cloud.apps() for name in cloud.functions_of(app)}


def test_functions_carry_secret_names_never_credentials(
        cloud: CloudRun, first_deploy: subprocess.CompletedProcess[str],
        first_verify: subprocess.CompletedProcess[str]) -> None:
    assert first_deploy.returncode == 0, output(first_deploy)
    found = environments(cloud)
    assert found
    for name, env in found.items():
        service = name.split("-")[1]  # shop-<service>-dev-...
        prefix = f"SHOP_{service.upper()}_"
        assert env[prefix + "DATABASE_SECRET"] == f"shop/{STAGE}/{service}/database"
        assert env[prefix + "REDIS_SECRET"] == f"shop/{STAGE}/{service}/redis"
        assert env[prefix + "AMQP_SECRET"] == f"shop/{STAGE}/{service}/broker"
        assert env[prefix + "DATABASE_URL"] == (
            f"postgresql+pg8000://127.0.0.1:5432/shop_{service}")
        text = json.dumps(env)
        for password in local_passwords():
            assert password not in text, f"{name} carries {password}"
        assert "guest" not in text
    assert f"{len(found)} functions Active" in output(first_verify) or "functions Active" in \
        output(first_verify)
    assert "credentials in environments" in output(first_verify)
    assert "0 difference(s)" in output(first_verify), output(first_verify)


def test_a_token_minted_with_the_stages_keys_is_refused_by_the_local_stack(
        cloud: CloudRun, first_deploy: subprocess.CompletedProcess[str],
        stack: ThrowawayStack, user_service: ShopClient, superadmin_token: str) -> None:
    secrets = cloud.client("secretsmanager")
    stage_pem = secrets.get_secret_value(
        SecretId=f"shop/{STAGE}/keys/private/{USER_TOKENS_KEY}")["SecretString"]
    local_pem = (stack.workdir / "keys" / f"{USER_TOKENS_KEY}.pem").read_text()
    assert stage_pem != local_pem
    superadmin_id = jwt.decode(superadmin_token, options={"verify_signature": False})["sub"]

    def me(key_pem: str) -> int:
        token = issue_user_token(parse_private_key(key_pem.encode(), Path("key")),
                                 user_id=superadmin_id, role="superadmin",
                                 issuer="shop-user-service", audience="shop", ttl_seconds=300)
        return user_service.call("GET", "/users/me", token=token).status_code

    assert me(stage_pem) == 401
    assert me(local_pem) == 200  # the same token, signed with the local key, is accepted
    local_keys = {p.read_text() for p in (stack.workdir / "keys").glob("*.pem")}
    stage_keys = {secrets.get_secret_value(SecretId=s["Name"])["SecretString"]
                  for s in secrets.list_secrets()["SecretList"]
                  if s["Name"].startswith(f"shop/{STAGE}/keys/")}
    assert stage_keys and not (stage_keys & local_keys)
    assert load_private_key(stack.workdir / "keys", USER_TOKENS_KEY)  # untouched, still there


def test_every_file_under_the_deploy_state_is_private(
        cloud: CloudRun, first_deploy: subprocess.CompletedProcess[str]) -> None:
    config = cloud.staged("user") / ".chalice" / "config.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    loose = []
    for folder, dirs, files in os.walk(cloud.state):
        for name in dirs + files:
            path = Path(folder) / name
            if path.is_symlink():
                continue
            wanted = 0o700 if path.is_dir() else 0o600
            if stat.S_IMODE(path.stat().st_mode) != wanted:
                loose.append(f"{oct(stat.S_IMODE(path.stat().st_mode))} {path}")
    assert loose == []
    assert stat.S_IMODE(cloud.state.stat().st_mode) == 0o700


def test_the_package_is_readable_by_lambda_although_its_sources_are_private(
        cloud: CloudRun, first_deploy: subprocess.CompletedProcess[str]) -> None:
    package, = (cloud.staged("user") / ".chalice" / "deployments").glob("*.zip")
    with zipfile.ZipFile(package) as archive:
        modes = {stat.S_IMODE(info.external_attr >> 16) for info in archive.infolist()}
    assert modes <= {0o644, 0o755} and 0o644 in modes


def test_verify_reports_a_plaintext_credential_without_printing_it(
        cloud: CloudRun, first_deploy: subprocess.CompletedProcess[str]) -> None:
    app = next(a for a in cloud.apps() if a.service == "order")
    name = next(iter(cloud.functions_of(app)))
    lam = cloud.client("lambda")
    variables = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    leaked = "postgresql+pg8000://shop_order:db-order-pw@127.0.0.1:5432/shop_order"
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {
        **variables, "SHOP_ORDER_DATABASE_URL": leaked,
        "SHOP_DEBUG_KEY": "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n"}})
    result = cloud.shop("--verify")
    text = output(result)
    assert result.returncode == 1
    assert f"{name}: SHOP_ORDER_DATABASE_URL holds a password in a URL" in text
    assert f"{name}: SHOP_DEBUG_KEY holds a PEM key" in text
    assert "db-order-pw" not in text and "MC4CAQAw" not in text
    repaired = cloud.shop()
    assert repaired.returncode == 0, output(repaired)
    assert cloud.shop("--verify").returncode == 0
