"""`shop down` says "stopped" only when supervisord is gone, and otherwise says what to do.

supervisord is played by a real process (`sleep`), so "alive" is what the kernel says; only
the XML-RPC answers (its pid, the shutdown call) are replaced.
"""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from shop_local import cli
from shop_local.stack import supervisor


@pytest.fixture
def stand_in() -> Iterator[subprocess.Popen[bytes]]:
    """A process standing in for supervisord, killed after the test."""
    process = subprocess.Popen(["sleep", "60"])
    yield process
    process.kill()
    process.wait()


def answering(monkeypatch: pytest.MonkeyPatch, pid: int | None) -> None:
    """A supervisord socket answering `pid` (None: nothing answers) to every question, whose
    shutdown call returns at once, as `supervisor.shutdown` does after its wait.
    """
    monkeypatch.setattr(supervisor, "running_pid", lambda _paths: pid)
    monkeypatch.setattr(supervisor, "shutdown", lambda _paths: pid is not None)


@pytest.fixture(autouse=True)
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """`shop down` waits 0.3 s, not 30, for the socket to go quiet."""
    monkeypatch.setattr(cli, "QUIET_SOCKET_SECONDS", 0.3)


def down(tmp_path: Path) -> int:
    """`shop down` on a supervisord working in `tmp_path`."""
    return cli.cmd_down(argparse.Namespace(), paths=supervisor.SupervisorPaths.under(tmp_path))


def test_a_supervisord_still_alive_is_not_reported_stopped(
        stand_in: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    answering(monkeypatch, stand_in.pid)
    assert down(tmp_path) == 1
    out = capsys.readouterr().out
    assert "stopped\n" not in out
    assert f"supervisord (pid {stand_in.pid}) has not stopped" in out
    assert f"kill {stand_in.pid}" in out and str(tmp_path / "logs" / "supervisord.log") in out


def test_a_supervisord_that_exited_but_whose_socket_still_answers_is_not_stopped(
        stand_in: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    answering(monkeypatch, stand_in.pid)
    stand_in.kill()
    stand_in.wait()
    assert down(tmp_path) == 1
    assert "has not stopped" in capsys.readouterr().out


def test_a_supervisord_that_exits_is_reported_stopped(
        stand_in: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    pid = stand_in.pid

    def shutdown(_paths: supervisor.SupervisorPaths) -> bool:
        stand_in.terminate()
        stand_in.wait()
        monkeypatch.setattr(supervisor, "running_pid", lambda _paths: None)
        return True

    monkeypatch.setattr(supervisor, "running_pid", lambda _paths: pid)
    monkeypatch.setattr(supervisor, "shutdown", shutdown)
    assert down(tmp_path) == 0
    assert capsys.readouterr().out == "shop: stopped\n"


def test_with_no_stack_down_says_so_and_succeeds(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    answering(monkeypatch, None)
    assert down(tmp_path) == 0
    assert capsys.readouterr().out == "shop: the stack is not running\n"


def test_down_defaults_to_the_stacks_supervisord(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    asked: list[supervisor.SupervisorPaths] = []

    def running_pid(paths: supervisor.SupervisorPaths) -> None:
        asked.append(paths)

    monkeypatch.setattr(supervisor, "running_pid", running_pid)
    assert cli.cmd_down(argparse.Namespace()) == 0
    assert cli.cmd_down(argparse.Namespace(),
                        paths=supervisor.SupervisorPaths.under(tmp_path)) == 0
    assert asked == [supervisor.DEFAULT_PATHS, supervisor.SupervisorPaths.under(tmp_path)]


def test_reset_removes_nothing_while_supervisord_is_still_alive(
        stand_in: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    # Dropping databases and users under services still running would leave them failing.
    from shop_local.stack import reset

    env_file = tmp_path / ".env"
    env_file.write_text("SHOP_PG_ADMIN_URL=postgresql://postgres@127.0.0.1:5432/postgres\n")
    monkeypatch.setattr(cli, "ENV_FILE", env_file)
    answering(monkeypatch, stand_in.pid)

    def must_not_run(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("reset removed what a running stack uses")

    monkeypatch.setattr(reset, "remove_provisioned", must_not_run)
    monkeypatch.setattr("shop_local.stack.backing.ensure_backing_services", must_not_run)
    paths = supervisor.SupervisorPaths.under(tmp_path)
    assert cli.cmd_reset(argparse.Namespace(yes=True), paths=paths) == 1
    out = capsys.readouterr().out
    assert "nothing removed: the stack is still running" in out
    assert f"kill {stand_in.pid}" in out
