"""`shop mail`: what the local stack sent, as the SMTP sink stored it in var/mail/.

`shop mail` lists every message (number, time, to, subject), oldest first;
`shop mail N` prints message N: its headers and its text part (`--html` for the
HTML part, `--raw` for the whole source).
"""

from __future__ import annotations

import argparse
import mailbox
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

# From paths, not runtime.smtp_sink (where the sink stores), so that `shop` builds its parser
# without aiosmtpd and asyncio.
from shop_local.paths import MAILDIR

SHOWN_HEADERS = ("Date", "From", "To", "Subject", "Message-ID")


@dataclass(frozen=True)
class MailSummary:
    """One stored message as `shop mail` lists it; `received_at` is when the sink stored it, in
    local time.
    """
    number: int  # 1-based position, oldest first: what `shop mail N` takes
    key: str
    received_at: datetime
    to: str
    subject: str


def parse(raw: bytes) -> EmailMessage:
    """A raw RFC 5322 message as an EmailMessage (email.policy.default: headers decoded,
    `get_body` available). Never raises on malformed input: the email package records defects
    instead.
    """
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)  # guaranteed by policy.default
    return message


def list_mail(maildir: Path = MAILDIR) -> list[MailSummary]:
    """Every message of the Maildir at `maildir`, oldest first, numbered from 1; empty when the
    folder does not exist yet. OSError when a message cannot be read.
    """
    if not (maildir / "cur").is_dir() and not (maildir / "new").is_dir():
        return []
    box = mailbox.Maildir(maildir, create=False)
    found = []
    for key in box.iterkeys():
        stored = box.get_message(key)
        message = parse(box.get_bytes(key))
        found.append((stored.get_date(), key, str(message["To"] or ""),
                      str(message["Subject"] or "")))
    found.sort()
    return [
        MailSummary(number, key, datetime.fromtimestamp(when).astimezone(), to, subject)
        for number, (when, key, to, subject) in enumerate(found, start=1)
    ]


def render_list(summaries: list[MailSummary], to: str | None = None) -> str:
    """The `shop mail` table (number, time, to, subject) of `summaries`, or of those whose To
    contains `to` (case-insensitive) when it is given: `no mail yet` when there is none at
    all, `no mail to <to>` when there is mail but none to `to`.
    """
    if not summaries:
        return "no mail yet"
    if to:
        summaries = [s for s in summaries if to.lower() in s.to.lower()]
        if not summaries:
            return f"no mail to {to} (`shop mail` lists all)"
    rows = [(str(s.number), s.received_at.strftime("%Y-%m-%d %H:%M:%S"), s.to, s.subject)
            for s in summaries]
    header = ("#", "time", "to", "subject")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    line = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
    return "\n".join([line.format(*header), *(line.format(*row) for row in rows)])


def render_message(raw: bytes, part: str = "plain") -> str:
    """A message's Date, From, To, Subject and Message-ID headers, a blank line, then its `part`
    body (`plain` or `html`), or `(no <part> part)`.
    """
    message = parse(raw)
    headers = [f"{name}: {message[name]}" for name in SHOWN_HEADERS if message[name]]
    body = message.get_body(preferencelist=(part,))
    text = body.get_content() if body is not None else f"(no {part} part)"
    return "\n".join(headers) + "\n\n" + str(text)


def show(maildir: Path, number: int, part: str = "plain", raw: bool = False) -> str:
    """Message `number` (1-based, as `list_mail` numbers them) rendered for `shop mail N`, or
    its whole source decoded as text when `raw`. LookupError when there is no such message.
    """
    summaries = list_mail(maildir)
    if not 1 <= number <= len(summaries):
        raise LookupError(f"no message {number}; `shop mail` lists {len(summaries)}")
    data = mailbox.Maildir(maildir, create=False).get_bytes(summaries[number - 1].key)
    return data.decode(errors="replace") if raw else render_message(data, part)


def cmd_mail(args: argparse.Namespace) -> int:
    """`shop mail [N] [--to TEXT] [--html] [--raw]`: 0, or 1 when message N does not exist."""
    if args.number is None:
        print(render_list(list_mail(args.maildir), args.to))
        return 0
    try:
        print(show(args.maildir, args.number, "html" if args.html else "plain", args.raw))
    except LookupError as exc:
        print(f"shop: {exc.args[0]}")
        return 1
    return 0


def register(commands: Any) -> None:
    """Add `shop mail` to the CLI's subcommands."""
    mail = commands.add_parser("mail", help="list the emails the local stack sent, or print one")
    mail.add_argument("number", type=int, nargs="?", help="print this message (see the list)")
    mail.add_argument("--to", help="list only messages to addresses containing this")
    mail.add_argument("--html", action="store_true", help="print the HTML part")
    mail.add_argument("--raw", action="store_true", help="print the whole message source")
    mail.add_argument("--maildir", type=Path, default=MAILDIR, help=argparse.SUPPRESS)
    mail.set_defaults(run=cmd_mail)
