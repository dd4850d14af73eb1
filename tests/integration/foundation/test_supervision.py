"""Supervision with a throw-away supervisord (its own var dir, socket and port).

The live stack's supervisord in var/ is never asked anything: every call here
passes this module's `SupervisorPaths`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import stat
import sys
import tempfile
import xmlrpc.client
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from shop_local import cli
from shop_local.probes import pid_alive, port_open, wait_for
from shop_local.stack import supervisor
from tests.support.stack import ThrowawayStack, free_port

pytestmark = pytest.mark.integration

START_TIMEOUT = 60


@dataclass(frozen=True)
class Supervised:
    paths: supervisor.SupervisorPaths
    port: int

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/health"

    def user_pid(self) -> int:
        """The user program's pid (0 while it is not running or supervisord does not answer)."""
        try:
            return int(supervisor.rpc(self.paths).supervisor.getProcessInfo("user")["pid"])
        except (OSError, xmlrpc.client.Fault):
            return 0


def healthy(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def alive(pid: int) -> bool:
    # A zombie (exited, not yet reaped by init) holds no port or socket: it counts as dead.
    return pid_alive(pid)


def eventually(check: Callable[[], bool], what: str, timeout: float = START_TIMEOUT) -> None:
    assert wait_for(check, timeout, interval=0.2), f"timed out waiting for {what}"


def kill_leftover_supervisord(paths: supervisor.SupervisorPaths) -> None:
    """Last resort if a test failed half-way: never leave a supervisord behind."""
    if supervisor.shutdown(paths):
        wait_for(lambda: supervisor.running_pid(paths) is None, 30)
    if paths.pidfile.exists():
        pid = int(paths.pidfile.read_text().strip() or 0)
        if pid and alive(pid):
            os.kill(pid, signal.SIGTERM)


@pytest.fixture(scope="module")
def supervised(stack: ThrowawayStack) -> Iterator[Supervised]:
    # A short folder name: a unix socket path must stay under ~100 bytes.
    var_dir = Path(tempfile.mkdtemp(prefix="shopsv-"))
    paths = supervisor.SupervisorPaths.under(var_dir)
    port = free_port()
    program = supervisor.Program(
        name="user",
        command=[sys.executable, "-m", "shop_local.runtime.host", "--service", "user",
                 "--port", str(port), "--access-log", str(paths.logs / "user.access.log")],
        stop_seconds=5,
    )
    # A log left world-readable by an older checkout.
    paths.logs.mkdir(parents=True)
    (paths.logs / "old.log").write_text("Authorization: Bearer from-before\n")
    (paths.logs / "old.log").chmod(0o644)
    try:
        supervisor.start([program], foreground=False, paths=paths,
                         environ=stack.process_env())
        handle = Supervised(paths, port)
        eventually(lambda: healthy(handle.health_url), "the supervised user service")
        yield handle
    finally:
        kill_leftover_supervisord(paths)
        shutil.rmtree(var_dir, ignore_errors=True)


def test_a_service_that_dies_is_started_again(supervised: Supervised) -> None:
    first = supervised.user_pid()
    assert first and alive(first)

    os.kill(first, signal.SIGKILL)

    eventually(lambda: supervised.user_pid() not in (0, first), "a new user process")
    eventually(lambda: healthy(supervised.health_url), "the restarted service's /health")
    eventually(lambda: supervisor.process_states(supervised.paths).get("user") == "RUNNING",
               "supervisord to count the new process as running")
    log = supervised.paths.log_of("user").read_text()
    assert "serving on" in log  # the program's output lands in its own log file


def test_logs_are_private_to_their_owner(supervised: Supervised) -> None:
    requests.get(supervised.health_url, timeout=5)  # an access-log line
    eventually(lambda: (supervised.paths.logs / "user.access.log").is_file(), "the access log")
    logs = supervised.paths.logs
    assert stat.S_IMODE(logs.stat().st_mode) == 0o700
    files = sorted(logs.iterdir())
    assert {"supervisord.log", "user.log", "user.access.log", "old.log"} <= {f.name for f in files}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_second_up_says_the_stack_is_running(
    supervised: Supervised, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    def must_not_run(*_args: object) -> dict[str, str]:
        raise AssertionError("a second `shop up` went on to set up and start the stack")

    # Guards: if the early exit were broken, these would otherwise touch the live .env.
    monkeypatch.setattr(cli, "load_env", must_not_run)
    monkeypatch.setattr(cli, "set_up", must_not_run)
    pid = supervisor.running_pid(supervised.paths)

    code = cli.cmd_up(argparse.Namespace(detach=True), paths=supervised.paths)

    assert code == 0
    out = capsys.readouterr().out
    assert "already running" in out and f"pid {pid}" in out and "shop down" in out
    with pytest.raises(supervisor.AlreadyRunning):
        supervisor.start([], foreground=False, paths=supervised.paths)


def test_shutdown_stops_supervisord_and_its_programs(supervised: Supervised) -> None:
    service_pid = supervised.user_pid()
    supervisord_pid = supervisor.running_pid(supervised.paths)
    assert service_pid and supervisord_pid

    assert supervisor.shutdown(supervised.paths)

    # Once shutdown returns everything is down, so `shop down && shop up` never races.
    assert supervisor.running_pid(supervised.paths) is None
    assert not alive(service_pid) and not alive(supervisord_pid)
    assert not port_open("127.0.0.1", supervised.port)
    assert cli.already_running(supervised.paths) is None
    assert not supervisor.shutdown(supervised.paths)  # nothing left to stop


def test_the_stack_starts_again_right_after_a_shutdown(stack: ThrowawayStack) -> None:
    var_dir = Path(tempfile.mkdtemp(prefix="shopsv-"))
    paths = supervisor.SupervisorPaths.under(var_dir)
    port = free_port()
    program = supervisor.Program(
        name="user", stop_seconds=5,
        command=[sys.executable, "-m", "shop_local.runtime.host", "--service", "user",
                 "--port", str(port)],
    )
    try:
        for _ in range(2):
            supervisor.start([program], foreground=False, paths=paths,
                             environ=stack.process_env())
            eventually(lambda: healthy(f"http://127.0.0.1:{port}/health"), "the user service")
            assert supervisor.shutdown(paths)
    finally:
        kill_leftover_supervisord(paths)
        shutil.rmtree(var_dir, ignore_errors=True)


def test_nothing_runs_in_an_unused_var_dir(tmp_path: Path) -> None:
    paths = supervisor.SupervisorPaths.under(tmp_path)
    assert supervisor.running_pid(paths) is None
    assert supervisor.process_states(paths) == {}
    assert cli.already_running(paths) is None
