"""A supervisord that takes calls on its socket but never answers (stopped with `kill -STOP`,
or stuck) makes `shop status`, `shop down` and `shop reset` say so and what to do, within
seconds, instead of hanging; `shop reset` then removes nothing.

supervisord is played by a real Unix socket server that accepts every connection and never
answers, and a pid file naming a real process; the XML-RPC client under test is the real one.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shop_local import cli
from shop_local.stack import reset, status, supervisor

TIMEOUT = 0.5


@pytest.fixture
def silent() -> Iterator[tuple[supervisor.SupervisorPaths, int]]:
    """The paths of a supervisord that accepts and never answers, and the pid in its pid file
    (a `sleep` standing in for it).
    """
    # A Unix socket path must be short (108 bytes); pytest's tmp_path may be longer.
    folder = Path(tempfile.mkdtemp(prefix="sv", dir="/tmp"))
    paths = supervisor.SupervisorPaths.under(folder)
    paths.run.mkdir(parents=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(paths.socket))
    server.listen(8)
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not done.is_set():
            try:
                held.append(server.accept()[0])  # read nothing, answer nothing
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    stand_in = subprocess.Popen(["sleep", "60"])
    paths.pidfile.write_text(f"{stand_in.pid}\n")
    yield paths, stand_in.pid
    done.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()
    stand_in.kill()
    stand_in.wait()
    shutil.rmtree(folder)


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "RPC_TIMEOUT_SECONDS", TIMEOUT)


def says_what_to_do(text: str, pid: int) -> None:
    assert f"supervisord (pid {pid}) does not answer" in text
    assert f"kill -CONT {pid}" in text and f"kill {pid}" in text


def test_a_silent_supervisord_is_not_answering_not_absent(
        silent: tuple[supervisor.SupervisorPaths, int]) -> None:
    paths, pid = silent
    started = time.monotonic()
    with pytest.raises(supervisor.NotAnswering) as raised:
        supervisor.running_pid(paths)
    assert time.monotonic() - started < TIMEOUT + 2
    assert raised.value.pid == pid
    with pytest.raises(supervisor.NotAnswering):
        supervisor.process_states(paths)


def test_status_says_supervisord_does_not_answer(
        silent: tuple[supervisor.SupervisorPaths, int], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    paths, pid = silent
    monkeypatch.setattr(cli, "load_env", lambda: {})
    monkeypatch.setattr(status, "status_table", lambda _env: ("(health table)", True))
    assert cli.cmd_status(argparse.Namespace(), paths=paths) == 1
    out = capsys.readouterr().out
    assert "not running" not in out
    says_what_to_do(out, pid)


def test_down_exits_1_saying_what_to_do(
        silent: tuple[supervisor.SupervisorPaths, int],
        capsys: pytest.CaptureFixture[str]) -> None:
    paths, pid = silent
    assert cli.cmd_down(argparse.Namespace(), paths=paths) == 1
    out = capsys.readouterr().out
    assert "not running" not in out and "shop: stopped" not in out
    says_what_to_do(out, pid)


def test_reset_removes_nothing(
        silent: tuple[supervisor.SupervisorPaths, int], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths, pid = silent
    env_file = tmp_path / ".env"
    env_file.write_text("SHOP_PG_ADMIN_URL=postgresql://postgres@127.0.0.1:5432/postgres\n")
    monkeypatch.setattr(cli, "ENV_FILE", env_file)

    def must_not_run(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("reset removed data while supervisord did not answer")

    monkeypatch.setattr(reset, "remove_provisioned", must_not_run)
    assert cli.cmd_reset(argparse.Namespace(yes=True), paths=paths) == 1
    out = capsys.readouterr().out
    assert "nothing removed" in out
    says_what_to_do(out, pid)


def test_no_socket_is_still_not_running(tmp_path: Path) -> None:
    assert supervisor.running_pid(supervisor.SupervisorPaths.under(tmp_path)) is None
