"""`shop logs NAME`: only the stack's own log names are read, an unknown one is answered with
the list of names, and `-n` takes no negative count.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pytest

from shop_local import cli
from shop_local.runtime.lambda_registry import publish
from shop_local.stack import services


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `var/logs` in `tmp_path`, with the user service's log and one function's."""
    folder = tmp_path / "var" / "logs"
    (folder / "lambda").mkdir(parents=True)
    (folder / "user.log").write_text("user started\n")
    (folder / "lambda" / "shop-user-dev-api.log").write_text("START RequestId\n")
    monkeypatch.setattr(cli, "LOGS", folder)
    return folder


def test_a_programs_log_is_shown(logs: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["logs", "user", "-n", "5"]) == 0
    assert "user started" in capfd.readouterr().out


def test_a_functions_log_is_shown(logs: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["logs", "lambda/shop-user-dev-api"]) == 0
    assert "START RequestId" in capfd.readouterr().out


def test_an_unknown_name_lists_the_names(logs: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["logs", "nope"]) == 2
    out = capfd.readouterr().out
    assert "no log called 'nope'" in out
    for name in ("user", "product", "order", "lambda", "supervisord", "prometheus",
                 "lambda/shop-user-dev-api"):
        assert f" {name}," in out or out.rstrip().endswith(f" {name}")


def test_a_known_log_not_written_yet_says_so(logs: Path,
                                             capfd: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["logs", "product"]) == 1
    assert "no log for 'product' yet" in capfd.readouterr().out


def test_a_registered_function_without_a_log_yet_is_known_and_said_to_be_not_yet_run(
        logs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    # `shop logs lambda/shop-product-dev-settle_reservations` in the stack's first minute,
    # before the schedule first ran, answered "there is no log called ..." (exit 2).
    registry = tmp_path / "var" / "run" / "lambda"
    monkeypatch.setattr(services, "LAMBDA_REGISTRY", registry)
    publish(registry, "http://127.0.0.1:1", ["shop-product-dev-settle_reservations",
                                             "../../secret"])
    assert cli.main(["logs", "lambda/shop-product-dev-settle_reservations"]) == 1
    out = capfd.readouterr().out
    assert "no log for 'lambda/shop-product-dev-settle_reservations' yet" in out
    assert "first invocation" in out
    assert cli.main(["logs", "lambda/../../secret"]) == 2  # not a function name


@pytest.mark.parametrize("name", ["../../secret", "../logs/../../secret", "/tmp/../secret",
                                  "lambda/../../../secret"])
def test_no_file_outside_the_logs_is_read(logs: Path, name: str,
                                          capfd: pytest.CaptureFixture[str]) -> None:
    (logs.parent.parent / "secret.log").write_text("the secret\n")
    assert cli.main(["logs", name]) == 2
    out = capfd.readouterr().out
    assert "the secret" not in out and "the names are" in out


@pytest.mark.parametrize("lines", ["-5", "many", "1.5"])
def test_a_count_of_lines_below_0_or_not_whole_is_refused(
        lines: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.build_parser().parse_args(["logs", "user", "-n", lines])
    assert exited.value.code == 2
    assert "not a number of lines (0 or more)" in capsys.readouterr().err


def test_0_lines_is_a_count() -> None:
    assert cli.build_parser().parse_args(["logs", "user", "-n", "0"]).lines == 0


def test_a_line_count_tail_cannot_take_is_refused_by_shop_itself() -> None:
    # `-n 99999999999999999999` reached tail, which failed with its own error (exit 1).
    with pytest.raises(argparse.ArgumentTypeError):
        cli.line_count("99999999999999999999")
    assert cli.line_count(str(cli.MAX_LOG_LINES)) == cli.MAX_LOG_LINES


def test_a_tail_killed_by_a_signal_is_reported_as_a_shell_does(
        logs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `shop logs user | head -1` exited 243: tail's -13 (SIGPIPE) went out as 256 - 13.
    monkeypatch.setattr(cli.subprocess, "call", lambda *_args, **_kw: -13)
    assert cli.main(["logs", "user"]) == 128 + 13


def test_a_reader_that_went_away_ends_shop_quietly(
        logs: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    def reader_gone(*_args: object, **_kw: object) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli.subprocess, "call", reader_gone)
    monkeypatch.setattr(cli, "stdout_reader_gone", lambda: True)
    assert cli.main(["logs", "user"]) == 128 + 13
    assert "Traceback" not in capfd.readouterr().err
    # A broken pipe that is not stdout's (a socket to a server) is not hidden as one.
    monkeypatch.setattr(cli, "stdout_reader_gone", lambda: False)
    with pytest.raises(BrokenPipeError):
        cli.main(["logs", "user"])


def test_stdout_reader_gone_tells_a_closed_pipe_from_an_open_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        assert not cli.stdout_reader_gone()
        os.close(read_end)
        assert cli.stdout_reader_gone()
