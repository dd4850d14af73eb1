"""One app run with plain `chalice local`, the way a developer runs it from its folder."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from shop_local.apps import function_dir
from tests.support.client import DEFAULT_PASSWORD, ShopClient, register
from tests.support.stack import ThrowawayStack, free_port

pytestmark = pytest.mark.integration

CHALICE = Path(sys.executable).parent / "chalice"


@pytest.fixture(scope="module")
def chalice_local(stack: ThrowawayStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("chalice-local") / "chalice.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(CHALICE), "local", "--no-autoreload", "--port", str(port)],
            cwd=function_dir("user"), env=stack.process_env(SHOP_ENV_FILE=""),
            stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"chalice local exited:\n{log_path.read_text()[-3000:]}")
            try:
                requests.get(url + "/health", timeout=2)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    pytest.fail(f"chalice local never answered:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_chalice_local_serves_health(chalice_local: str) -> None:
    response = requests.get(chalice_local + "/health", timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["service"] == "user" and body["status"] == "ok"
    assert {check["status"] for check in body["checks"].values()} == {"up"}


def test_chalice_local_registers_and_logs_in(chalice_local: str) -> None:
    users = ShopClient.to(chalice_local)
    user = register(users)
    login = users.call("POST", "/users/login",
                       json={"email": user["email"], "password": DEFAULT_PASSWORD})
    assert login.status_code == 200, login.text
    me = users.call("GET", "/users/me", token=login.json()["access_token"])
    assert me.status_code == 200 and me.json()["id"] == user["id"]


def test_chalice_local_serves_the_api_docs(chalice_local: str) -> None:
    document = requests.get(chalice_local + "/openapi.json", timeout=10)
    assert document.status_code == 200, document.text
    assert "/users/register" in document.json()["paths"]
    page = requests.get(chalice_local + "/docs", timeout=10)
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    script = requests.get(chalice_local + "/docs/static/swagger-ui-bundle.js", timeout=30)
    assert script.status_code == 200 and script.headers["Content-Type"].startswith(
        "text/javascript") and "SwaggerUIBundle" in script.text
    assert page.text.count('href="data:image/png;base64,') == 2  # the icons, inlined
