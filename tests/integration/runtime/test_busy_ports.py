"""A port that another process holds stops `shop serve`, the stack's Invoke API router and a
service process with one line naming the port, the option or setting to change and what to
do, and exit code 1: no "Task exception was never retrieved", no traceback (uvicorn's own
bind failure was a `sys.exit` from its serving task, raised past the caller).
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shop_local.paths import ROOT
from shop_local.runtime import host
from shop_local.runtime.http_server import listen
from tests.integration.runtime.gateway_support import copy_probe
from tests.support.stack import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture
def held() -> Iterator[int]:
    """A loopback port another socket is listening on for the test's length."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", free_port()))
        holder.listen()
        yield holder.getsockname()[1]


def shop_serve(workdir: Path, *options: str) -> subprocess.CompletedProcess[str]:
    project = copy_probe(workdir)
    environment = {**os.environ, "SHOP_LAMBDA_LOG_DIR": str(workdir / "lambda-logs")}
    return subprocess.run(
        [sys.executable, "-m", "shop_local.cli", "serve", str(project), "--no-autoreload",
         *options], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
        check=False)


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    for text in (result.stdout, result.stderr):
        assert "Traceback" not in text and "Task exception" not in text, text


def test_serve_says_the_lambda_port_is_in_use(tmp_path: Path, held: int) -> None:
    result = shop_serve(tmp_path, "--port", str(free_port()), "--lambda-port", str(held))
    no_traceback(result)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"shop serve: port {held} (--lambda-port) is in use on 127.0.0.1: choose another with "
        "--lambda-port, or stop what holds it; --lambda-port 0 picks a free one"]


def test_serve_says_the_api_port_is_in_use(tmp_path: Path, held: int) -> None:
    result = shop_serve(tmp_path, "--port", str(held), "--lambda-port", "0")
    no_traceback(result)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"shop serve: port {held} (--port) is in use on 127.0.0.1: choose another with --port, "
        "or stop what holds it; --port 0 picks a free one"]


def test_serve_refuses_one_port_for_both(tmp_path: Path) -> None:
    port = str(free_port())
    result = shop_serve(tmp_path, "--port", port, "--lambda-port", port)
    no_traceback(result)
    assert result.returncode == 1
    assert f"port {port} (--lambda-port) is in use" in result.stdout


def test_serve_refuses_a_port_past_65535(tmp_path: Path) -> None:
    result = shop_serve(tmp_path, "--port", "70000")
    assert result.returncode == 2  # argparse's, for a bad argument
    assert "--port: '70000' is not a port number (0 to 65535" in result.stderr


def test_the_stacks_invoke_api_router_says_its_port_is_in_use(tmp_path: Path,
                                                              held: int) -> None:
    environment = {**os.environ, "SHOP_LAMBDA_INVOKE_PORT": str(held),
                   "SHOP_LAMBDA_ACCESS_KEY_ID": "AKIDTEST",
                   "SHOP_LAMBDA_SECRET_ACCESS_KEY": "test-secret"}
    result = subprocess.run(
        [sys.executable, "-m", "shop_local.runtime.lambda_router", "--registry",
         str(tmp_path / "registry")], cwd=ROOT, env=environment, capture_output=True,
        text=True, timeout=60, check=False)
    no_traceback(result)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"lambda: refusing to start: port {held} (SHOP_LAMBDA_INVOKE_PORT) is in use on "
        "127.0.0.1: choose another with SHOP_LAMBDA_INVOKE_PORT, or stop what holds it"]


def test_a_service_process_says_its_port_is_in_use(held: int,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # Nothing of the project is started before the port is bound: no config is needed.
    config = None  # type: ignore[assignment]
    assert asyncio.run(host.run_service("user", config, "127.0.0.1", held, None)) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"user: refusing to start: port {held} (SHOP_USER_SERVICE_URL) is in use on "
        "127.0.0.1: choose another with SHOP_USER_SERVICE_URL, or stop what holds it"]


def test_listen_takes_a_free_port_and_leaves_nothing_open_when_refused(held: int) -> None:
    sockets = listen("127.0.0.1", 0)
    try:
        assert sockets[0].getsockname()[1] > 0
    finally:
        for sock in sockets:
            sock.close()
    with pytest.raises(OSError) as raised:
        listen("127.0.0.1", held)
    assert raised.value.errno == errno.EADDRINUSE
    with pytest.raises(OSError, match="70000 is not a port number"):
        listen("127.0.0.1", 70000)  # getaddrinfo alone would bind 70000 % 65536
