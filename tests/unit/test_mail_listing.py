"""`shop mail`: listing and printing what the SMTP sink stored (a Maildir in a temp folder)."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest

from shop_local import cli
from shop_local.runtime.smtp_sink import ensure_maildir
from shop_local.stack.mail import list_mail, render_list, show


def store(maildir: Path, to: str, subject: str, when: float) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "shop@example.com", to, subject
    message.set_content(f"text for {to}")
    message.add_alternative(f"<p>html for {to}</p>", subtype="html")
    stored = mailbox.MaildirMessage(message)
    stored.set_date(when)
    mailbox.Maildir(maildir).add(stored)


def test_can_list_mail_oldest_first(tmp_path: Path) -> None:
    ensure_maildir(tmp_path)
    store(tmp_path, "b@example.com", "Second", 2_000_000_000)
    store(tmp_path, "a@example.com", "First", 1_000_000_000)
    listed = list_mail(tmp_path)
    assert [(m.number, m.to, m.subject) for m in listed] == [
        (1, "a@example.com", "First"), (2, "b@example.com", "Second")]
    table = render_list(listed)
    assert "a@example.com" in table and "Second" in table.splitlines()[-1]


def test_can_print_one_message(tmp_path: Path) -> None:
    ensure_maildir(tmp_path)
    store(tmp_path, "a@example.com", "Hello", 1_000_000_000)
    printed = show(tmp_path, 1)
    assert "To: a@example.com" in printed and "Subject: Hello" in printed
    assert "text for a@example.com" in printed
    assert "<p>html for a@example.com</p>" in show(tmp_path, 1, part="html")
    assert "MIME-Version" in show(tmp_path, 1, raw=True)
    with pytest.raises(LookupError):
        show(tmp_path, 2)


def test_can_list_nothing_before_any_mail(tmp_path: Path) -> None:
    assert list_mail(tmp_path / "missing") == []
    assert render_list([]) == "no mail yet"


def test_a_filter_that_matches_nothing_says_so_not_that_there_is_no_mail(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ensure_maildir(tmp_path)
    store(tmp_path, "a@example.com", "Hello", 1_000_000_000)
    listed = list_mail(tmp_path)
    assert render_list(listed, "B@example") == "no mail to B@example (`shop mail` lists all)"
    assert "Hello" in render_list(listed, "A@EXAMPLE")
    assert render_list([], "b@example.com") == "no mail yet"
    assert cli.main(["mail", "--to", "b@example.com", "--maildir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("no mail to b@example.com")
