"""The compose stack's one-shot set-up (infra/docker/compose_setup.py) prints a password it
generated only when the superadmin was created with it. The user service's task is replaced
by its answers (functions/user/chalicelib/tasks.py).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from shop_common.superadmin_answer import SuperadminAnswer, SuperadminOutcome
from shop_local.paths import ROOT

EMAIL = "admin@example.com"


@pytest.fixture(scope="module")
def compose_setup() -> ModuleType:
    """infra/docker/compose_setup.py, imported from its file as the container runs it."""
    spec = importlib.util.spec_from_file_location(
        "compose_setup", ROOT / "infra" / "docker" / "compose_setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("compose_setup", module)
    spec.loader.exec_module(module)
    return module


def run_with_task_answering(compose_setup: ModuleType, monkeypatch: pytest.MonkeyPatch,
                            env: dict[str, str], outcome: SuperadminOutcome,
                            says: str) -> str:
    """Run the superadmin step with the task answering `outcome` and `says`; the password it
    was given.
    """
    given: list[str] = []

    def run_task(service: str, function: str, arguments: dict[str, str]) -> str:
        assert (service, function, arguments["email"]) == ("user", "create_superadmin", EMAIL)
        given.append(arguments["password"])
        return SuperadminAnswer(outcome, EMAIL, says).to_json()

    monkeypatch.setattr(compose_setup, "run_task", run_task)
    compose_setup.ensure_superadmin(env)
    return given[0]


def test_a_generated_password_is_printed_once_the_account_is_created_with_it(
        compose_setup: ModuleType, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    password = run_with_task_answering(compose_setup, monkeypatch, {},
                                       SuperadminOutcome.CREATED, f"superadmin {EMAIL} created")
    out = capsys.readouterr().out
    assert len(password) >= 20 and f"{EMAIL}  /  {password}" in out
    assert out.count(password) == 1 and "shown once" in out


def test_a_generated_password_is_not_printed_when_the_account_already_existed(
        compose_setup: ModuleType, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    password = run_with_task_answering(
        compose_setup, monkeypatch, {}, SuperadminOutcome.OTHER_PASSWORD,
        f"superadmin {EMAIL} exists, but its password is not the one in "
        "SHOP_SUPERADMIN_PASSWORD; it was left unchanged")
    out = capsys.readouterr().out
    assert password not in out
    assert f"superadmin {EMAIL} already exists and keeps its own password" in out


def test_a_configured_password_is_used_and_never_printed(
        compose_setup: ModuleType, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    configured = "Configured-Password-4711"
    password = run_with_task_answering(
        compose_setup, monkeypatch,
        {"SHOP_SUPERADMIN_EMAIL": EMAIL, "SHOP_SUPERADMIN_PASSWORD": configured},
        SuperadminOutcome.CREATED, f"superadmin {EMAIL} created")
    out = capsys.readouterr().out
    assert password == configured and configured not in out
    assert out == f"compose-setup: superadmin {EMAIL} created\n"


def test_an_enduser_address_is_not_made_a_superadmin_and_the_set_up_says_it_failed(
        compose_setup: ModuleType, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # It said the truth but exited 0, so `docker compose up` went on as if it had worked.
    monkeypatch.setattr(compose_setup, "run_task", lambda *_args: SuperadminAnswer(
        SuperadminOutcome.OTHER_ROLE, EMAIL,
        f"account {EMAIL} exists as an enduser and was not made a superadmin").to_json())
    assert compose_setup.ensure_superadmin({"SHOP_SUPERADMIN_PASSWORD": "given-pw-123"}) == 1
    assert "was not made a superadmin" in capsys.readouterr().out


def test_a_wrong_email_or_password_is_one_line_each_and_exit_2(
        compose_setup: ModuleType, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from shop_local.stack.task import ArgumentsRefused

    def refuse(*_args: object) -> str:
        raise ArgumentsRefused("email: not an email address\npassword: too short")

    monkeypatch.setattr(compose_setup, "run_task", refuse)
    assert compose_setup.ensure_superadmin({"SHOP_SUPERADMIN_EMAIL": "bad"}) == 2
    out = capsys.readouterr().out
    assert "compose-setup: email: not an email address" in out
    assert "compose-setup: password: too short" in out


def test_an_enduser_address_is_not_called_a_superadmin_when_the_password_was_generated(
        compose_setup: ModuleType, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # With SHOP_SUPERADMIN_PASSWORD unset it said "superadmin ... already exists and keeps its
    # own password" of an enduser's account.
    password = run_with_task_answering(
        compose_setup, monkeypatch, {}, SuperadminOutcome.OTHER_ROLE,
        f"account {EMAIL} exists as an enduser and was not made a superadmin")
    out = capsys.readouterr().out
    assert out == (f"compose-setup: account {EMAIL} exists as an enduser and was not made a "
                   "superadmin\n")
    assert password not in out


def test_a_task_answer_that_is_no_outcome_is_a_runtime_error(
        compose_setup: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compose_setup, "run_task", lambda *_args: "superadmin x created")
    with pytest.raises(RuntimeError, match="not an outcome the shop knows"):
        compose_setup.ensure_superadmin({"SHOP_SUPERADMIN_PASSWORD": "given-pw-123"})
