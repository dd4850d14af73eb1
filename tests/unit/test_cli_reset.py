"""`shop reset` removes data: it asks first, and never assumes a yes it was not given."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from shop_local import cli
from shop_local.stack import reset, supervisor


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_yes_needs_no_question() -> None:
    assert cli.confirmed(argparse.Namespace(yes=True))


def test_without_a_terminal_the_answer_is_no(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert not cli.confirmed(argparse.Namespace(yes=False))


@pytest.mark.parametrize(("typed", "expected"), [("y", True), ("YES", True), ("", False),
                                                 ("n", False), ("sure", False)])
def test_at_a_terminal_only_y_or_yes_confirms(monkeypatch: pytest.MonkeyPatch, typed: str,
                                              expected: bool) -> None:
    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr("builtins.input", lambda _prompt: typed)
    assert cli.confirmed(argparse.Namespace(yes=False)) is expected


def test_an_unconfirmed_reset_touches_nothing(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SHOP_PG_ADMIN_URL=postgresql://postgres@127.0.0.1:5432/postgres\n")
    monkeypatch.setattr(cli, "ENV_FILE", env_file)
    monkeypatch.setattr(cli, "ROOT", tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    def must_not_run(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("reset went ahead without a yes")

    monkeypatch.setattr(supervisor, "shutdown", must_not_run)
    monkeypatch.setattr(reset, "remove_provisioned", must_not_run)
    assert cli.main(["reset"]) == 1


def test_reset_is_a_shop_command() -> None:
    parsed = cli.build_parser().parse_args(["reset", "--yes"])
    assert parsed.run is cli.cmd_reset and parsed.yes
