"""What `shop up` says about the superadmin: a password is printed only when it is the
account's, and `make postman` (tests/postman/newman.sh) refuses to run while `.env`'s is not.
The user service's task is replaced by its answers (functions/user/chalicelib/tasks.py).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from shop_common.superadmin_answer import SuperadminAnswer, SuperadminOutcome
from shop_local import cli
from shop_local.paths import ROOT
from shop_local.stack import task

EMAIL = "admin@example.com"
NEWMAN = ROOT / "tests" / "postman" / "newman.sh"


@pytest.fixture
def env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh `.env` from the project's example, its superadmin password generated now."""
    monkeypatch.setattr(cli, "ROOT", tmp_path)
    monkeypatch.setattr(cli, "ENV_FILE", tmp_path / ".env")
    monkeypatch.setenv("SHOP_ENV_FILE", "")  # prepare_env sets it; monkeypatch restores it
    return tmp_path / ".env"


def task_answering(monkeypatch: pytest.MonkeyPatch, outcome: SuperadminOutcome,
                   says: str) -> None:
    def run_task(service: str, function: str, arguments: dict[str, object]) -> str:
        assert (service, function, arguments["email"]) == ("user", "create_superadmin", EMAIL)
        return SuperadminAnswer(outcome, EMAIL, says).to_json()
    monkeypatch.setattr(task, "run_task", run_task)


def kept_another_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """The task answers that `.env`'s superadmin exists with a password of its own."""
    task_answering(monkeypatch, SuperadminOutcome.OTHER_PASSWORD,
                   f"superadmin {EMAIL} exists, but its password is not the one "
                   "in SHOP_SUPERADMIN_PASSWORD; it was left unchanged")


def newman(env_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(NEWMAN)], env={**os.environ, "SHOP_ENV_FILE": str(env_file)},
                          capture_output=True, text=True, timeout=60, check=False)


def test_a_generated_password_is_printed_when_the_account_is_created_with_it(
        env_file: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    env, generated = cli.prepare_env()
    assert generated and generated not in capsys.readouterr().out  # not before the account
    task_answering(monkeypatch, SuperadminOutcome.CREATED, f"superadmin {EMAIL} created")
    cli.ensure_superadmin(env, generated)
    out = capsys.readouterr().out
    assert f"{EMAIL}  /  {generated}" in out and "shown once" in out
    assert cli.NOT_IN_EFFECT_SETTING not in cli.read_env(env_file)


def test_an_existing_account_keeps_its_password_and_the_generated_one_is_not_printed(
        env_file: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    env, generated = cli.prepare_env()
    assert generated
    kept_another_password(monkeypatch)
    cli.ensure_superadmin(env, generated)
    out = capsys.readouterr().out
    assert generated not in out
    assert f"superadmin {EMAIL} already exists; its password was left as it is" in out
    assert "not the SHOP_SUPERADMIN_PASSWORD in .env" in out

    refused = newman(env_file)
    assert refused.returncode == 1
    assert "superadmin password in" in refused.stderr and "kept its own password" in refused.stderr


def test_the_mark_goes_once_env_holds_the_accounts_password(
        env_file: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    env, _ = cli.prepare_env()
    cli.record_password_in_effect(False, EMAIL)
    assert cli.NOT_IN_EFFECT_SETTING in cli.read_env(env_file)
    task_answering(monkeypatch, SuperadminOutcome.EXISTS, f"superadmin {EMAIL} exists")
    cli.ensure_superadmin(env, None)
    assert "its password is SHOP_SUPERADMIN_PASSWORD in .env" in capsys.readouterr().out
    assert cli.NOT_IN_EFFECT_SETTING not in cli.read_env(env_file)


def test_commands_that_create_no_account_do_not_print_a_generated_password(
        env_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli.load_env()
    out = capsys.readouterr().out
    password = cli.read_env(env_file)["SHOP_SUPERADMIN_PASSWORD"]
    assert password not in out and "generated SHOP_SUPERADMIN_PASSWORD in .env" in out


def test_a_wrong_email_and_password_are_said_one_line_each_without_a_traceback(
        env_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The user service's real task checks them before it needs a database.
    assert cli.main(["create-superadmin", "--email", "bad", "--password", "x"]) == 2
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert [line.split(":")[:2] for line in lines[-2:]] == [["shop", " email"],
                                                            ["shop", " password"]]
    assert "not a valid email address" in lines[-2] and "at least 10 characters" in lines[-1]
    assert "Traceback" not in captured.out + captured.err
    assert "ValidationError" not in captured.out + captured.err


ENDUSER_ANSWER = f"account {EMAIL} exists as an enduser and was not made a superadmin"


@pytest.mark.parametrize("argv", [["create-superadmin"],
                                  ["create-superadmin", "--email", EMAIL,
                                   "--password", "another-horse-7"]])
def test_an_enduser_address_is_not_reported_as_a_superadmin(
        env_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        argv: list[str]) -> None:
    task_answering(monkeypatch, SuperadminOutcome.OTHER_ROLE, ENDUSER_ANSWER)
    assert cli.main(argv) == 1
    out = capsys.readouterr().out
    assert ENDUSER_ANSWER in out and "Choose another address" in out
    assert "superadmin admin@example.com exists" not in out and "its password is" not in out


@pytest.mark.parametrize(("argv", "said"), [
    (["--email", "", "--password", ""], ["--email: must not be empty",
                                         "--password: must not be empty"]),
    (["--email", "other@example.com"], ["--password: give the new superadmin's password"]),
])
def test_create_superadmin_refuses_empty_values_and_a_new_account_without_its_password(
        env_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        argv: list[str], said: list[str]) -> None:
    # Both fell back to `.env`'s: '' became its account, and a new address silently got
    # `.env`'s superadmin password.
    def must_not_run(*_args: object) -> str:
        raise AssertionError("the task ran")

    monkeypatch.setattr(task, "run_task", must_not_run)
    assert cli.main(["create-superadmin", *argv]) == 2
    lines = capsys.readouterr().out.splitlines()
    # One `shop:` line each.
    assert all(any(shown.startswith(f"shop: {line}") for shown in lines) for line in said)


def test_create_superadmin_with_another_password_for_an_existing_one_says_so_and_fails(
        env_file: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    cli.prepare_env()
    kept_another_password(monkeypatch)
    assert cli.main(["create-superadmin", "--email", EMAIL, "--password", "another-pw-123"]) == 1
    out = capsys.readouterr().out
    assert "its password is not the one given; it was left unchanged" in out
    assert "SHOP_SUPERADMIN_PASSWORD" not in out


def test_create_superadmin_for_envs_account_fails_when_it_kept_another_password(
        env_file: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # With no arguments (`.env`'s address and password) this said so but exited 0, unlike
    # the same case with --email and --password.
    cli.prepare_env()
    kept_another_password(monkeypatch)
    assert cli.main(["create-superadmin"]) == 1
    assert "its password was left as it is" in capsys.readouterr().out
    assert cli.NOT_IN_EFFECT_SETTING in cli.read_env(env_file)
    task_answering(monkeypatch, SuperadminOutcome.EXISTS, f"superadmin {EMAIL} exists")
    assert cli.main(["create-superadmin"]) == 0
    assert cli.NOT_IN_EFFECT_SETTING not in cli.read_env(env_file)


def test_a_task_answer_that_is_no_outcome_is_said_as_an_error_not_a_traceback(
        env_file: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(task, "run_task", lambda *_args: "superadmin admin@example.com created")
    assert cli.main(["create-superadmin"]) == 1
    out = capsys.readouterr().out
    assert "shop: error: user.create_superadmin answered" in out and "Traceback" not in out
