"""`shop deploy` against the embedded emulator: deploy, verify, packages, redeploy, destroy.

The tests run in this order and share one emulated cloud (a first deploy takes a
minute; doing it once per session keeps the suite fast).
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from shop_local.apps import FunctionApp
from shop_local.deploy import mq_mappings
from tests.integration.deploy.conftest import STAGE, CloudRun

pytestmark = pytest.mark.timeout(600)

# Run in a clean interpreter (-I -S: no site-packages, no user site, no PYTHON*
# variables) with only the unpacked package on its path, as Lambda's /var/task.
CLEAN_IMPORT = r"""
import importlib, sys
root, handlers = sys.argv[1], sys.argv[2:]
sys.path.insert(0, root)
app = importlib.import_module("app")
import shop_common
for name, module in sorted(sys.modules.items()):
    origin = getattr(module, "__file__", None) or ""
    if origin and not origin.startswith((root, sys.base_prefix)):
        raise SystemExit(f"{name} was imported from outside the package: {origin}")
for handler in handlers:
    getattr(app, handler)
print("imported", app.app.app_name, "with shop_common from", shop_common.__file__)
"""


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def test_can_deploy_every_app_starting_the_embedded_emulator(
        cloud: CloudRun, first_deploy: subprocess.CompletedProcess[str]) -> None:
    text = output(first_deploy)
    assert first_deploy.returncode == 0, text
    assert "starting the embedded emulator" in text
    assert "cfn-lint clean" in text
    for app in cloud.apps():
        assert f"{app.service}: created" in text
    pid = cloud.emulator_pid()
    assert pid is not None
    command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert command[command.index(b"-H") + 1] == b"127.0.0.1"


def test_can_verify_every_function_active_and_every_route_wired(
        cloud: CloudRun, first_verify: subprocess.CompletedProcess[str]) -> None:
    result = first_verify
    text = output(result)
    assert result.returncode == 0, text
    assert "0 difference(s)" in text
    gateway = cloud.client("apigateway")
    for app in cloud.apps():
        functions = cloud.functions_of(app)
        assert functions, f"no function of {app.service} in the emulator"
        for name, function in functions.items():
            assert function["State"] == "Active"
            assert f"{name}  Active  {function['Runtime']}  {function['Handler']}" in text
        apis = [a for a in gateway.get_rest_apis()["items"] if a["name"] == app.app_name]
        for api in apis:
            for resource in gateway.get_resources(restApiId=api["id"])["items"]:
                for method in resource.get("resourceMethods", {}):
                    uri = gateway.get_integration(restApiId=api["id"], resourceId=resource["id"],
                                                  httpMethod=method)["uri"]
                    assert any(f["FunctionArn"] in uri for f in functions.values())
                    assert f"{method:6} {resource['path']}  ({app.app_name}" in text
    assert "parameters (SSM)" in text and "secrets (Secrets Manager)" in text


def test_verify_cold_starts_every_deployed_package_and_sends_it_a_smoke_event(
        cloud: CloudRun, first_verify: subprocess.CompletedProcess[str]) -> None:
    text = output(first_verify)
    assert first_verify.returncode == 0, text
    section = text.split("cold starts (deployed packages, local Lambda service)", 1)[1]
    section = section.split("\n\n", 1)[0]
    gateway = cloud.client("apigateway")
    for app in cloud.apps():
        functions = cloud.functions_of(app)
        http_function = f"{app.app_name}-{STAGE}"
        has_api = any(a["name"] == app.app_name for a in gateway.get_rest_apis()["items"])
        for name in functions:
            line = next((line for line in section.splitlines() if line.strip().startswith(
                f"{name}  init ")), None)
            assert line is not None, f"{name} not cold-started:\n{section}"
            if has_api and name == http_function:
                assert re.search(r"GET /health -> (200|503)  \[package: ", line), line
            assert "CodeSha256" not in line
    assert re.search(r"\d+ functions cold-started", text)


def test_verify_reports_a_deployed_function_that_cannot_start(
        cloud: CloudRun, first_deploy: subprocess.CompletedProcess[str]) -> None:
    user = next(a for a in cloud.apps() if a.service == "user")
    name = f"{user.app_name}-{STAGE}"
    lam = cloud.client("lambda")
    handler = lam.get_function_configuration(FunctionName=name)["Handler"]
    lam.update_function_configuration(FunctionName=name, Handler="app.no_such_handler")
    try:
        broken = cloud.shop("--verify")
    finally:
        lam.update_function_configuration(FunctionName=name, Handler=handler)
    assert broken.returncode == 1
    assert re.search(rf"difference: {re.escape(name)}: GET /health -> "
                     r"Runtime.HandlerNotFound", output(broken)), output(broken)


def test_verify_lists_the_mq_mappings_the_emulator_cannot_hold(
        cloud: CloudRun, first_verify: subprocess.CompletedProcess[str]) -> None:
    services = {app.service for app in cloud.apps()}
    specs = [s for s in mq_mappings.load_specs() if s.service in services]
    if not specs:
        pytest.skip("no app of the mapping file in this checkout yet")
    text = output(first_verify)
    cannot_hold = text.split("the emulator cannot hold", 1)[1]
    for spec in specs:
        assert spec.source_name in cannot_hold
    assert "Invalid EventSourceArn" in cannot_hold
    assert "botocore validated the exact CreateEventSourceMapping call" in cannot_hold
    # Never pretended: the emulator holds no mapping at all, of any kind.
    lam = cloud.client("lambda")
    assert lam.list_event_source_mappings()["EventSourceMappings"] == []


@pytest.mark.parametrize("service", ["user", "product", "order", "communication"])
def test_package_imports_in_a_clean_interpreter_with_the_shared_layer(
        cloud: CloudRun, first_deploy: subprocess.CompletedProcess[str], service: str,
        tmp_path: Path) -> None:
    app = next((a for a in cloud.apps() if a.service == service), None)
    if app is None:
        pytest.skip(f"no {service} app in this checkout yet")
    packages = list((cloud.staged(service) / ".chalice" / "deployments").glob("*.zip"))
    assert len(packages) == 1, packages
    with zipfile.ZipFile(packages[0]) as package:
        names = set(package.namelist())
        package.extractall(tmp_path)
    assert "app.py" in names and "shop_common/__init__.py" in names
    source = cloud.functions / service / "chalicelib"
    for path in source.rglob("*.py"):  # rglob follows the symlinked folder too
        if "__pycache__" not in path.parts:
            assert f"chalicelib/{path.relative_to(source).as_posix()}" in names
    handlers = sorted({f["Handler"].split(".", 1)[1] for f in cloud.functions_of(app).values()})
    result = subprocess.run([sys.executable, "-I", "-S", "-c", CLEAN_IMPORT, str(tmp_path),
                             *handlers], cwd=tmp_path, env={}, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"shop_common from {tmp_path}" in result.stdout


def test_symlinked_chalicelib_content_travels_in_the_package(
        cloud: CloudRun, first_deploy: subprocess.CompletedProcess[str], tmp_path: Path) -> None:
    package, = (cloud.staged("user") / ".chalice" / "deployments").glob("*.zip")
    with zipfile.ZipFile(package) as archive:
        assert "chalicelib/linked_marker/marker.py" in archive.namelist()


def snapshot(cloud: CloudRun, apps: list[FunctionApp]) -> dict[str, tuple[str, str]]:
    return {name: (f["CodeSha256"], f["LastModified"])
            for app in apps for name, f in cloud.functions_of(app).items()}


def test_redeploy_updates_only_the_app_that_changed(
        cloud: CloudRun, first_deploy: subprocess.CompletedProcess[str]) -> None:
    apps = cloud.apps()
    before = snapshot(cloud, apps)
    with (cloud.functions / "user" / "chalicelib" / "__init__.py").open("a") as module:
        module.write("\n# changed by the redeploy test\n")
    result = cloud.shop()
    text = output(result)
    assert result.returncode == 0, text
    assert "user: updated" in text
    after = snapshot(cloud, apps)
    user = next(a for a in apps if a.service == "user")
    for app in apps:
        for name in cloud.functions_of(app):
            if app is user:
                assert after[name][0] != before[name][0], f"{name} kept its old code"
            else:
                assert f"{app.service}: unchanged" in text
                assert after[name] == before[name], f"{name} was touched"
    assert cloud.shop("--verify").returncode == 0


def test_verify_fails_on_drift_and_deploy_repairs_it(
        cloud: CloudRun, first_deploy: subprocess.CompletedProcess[str]) -> None:
    app = cloud.apps()[0]
    name, _ = next(iter(cloud.functions_of(app).items()))
    lam = cloud.client("lambda")
    variables = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=name, Environment={"Variables": {**variables, "SHOP_LOG_LEVEL": "DEBUG"}})
    drifted = cloud.shop("--verify")
    assert drifted.returncode == 1
    assert "environment differs in SHOP_LOG_LEVEL" in output(drifted)
    repaired = cloud.shop()
    assert repaired.returncode == 0, output(repaired)
    assert f"{app.service}: updated" in output(repaired)
    assert cloud.shop("--verify").returncode == 0


def test_destroy_removes_everything(
        cloud: CloudRun, first_deploy: subprocess.CompletedProcess[str]) -> None:
    result = cloud.shop("--destroy")
    assert result.returncode == 0, output(result)
    assert "destroyed: nothing of stage" in output(result)
    assert cloud.client("lambda").list_functions()["Functions"] == []
    assert cloud.client("apigateway").get_rest_apis()["items"] == []
    assert cloud.client("ssm").get_parameters_by_path(
        Path=f"/shop/{STAGE}/", Recursive=True)["Parameters"] == []
    assert cloud.client("secretsmanager").list_secrets()["SecretList"] == []
    assert cloud.client("events").list_rules()["Rules"] == []
    assert cloud.client("mq").list_brokers()["BrokerSummaries"] == []
    assert [r for r in cloud.client("iam").list_roles()["Roles"]
            if r["RoleName"].startswith("shop-")] == []
    assert cloud.shop("--verify").returncode == 1
