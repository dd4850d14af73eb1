"""The local stack's SMTP server: accepts every message and keeps it in var/mail/ (Maildir).

Nothing is relayed anywhere. `shop mail` lists and prints what arrived. Each stored
message carries the envelope as X-MailFrom / X-RcptTo headers (aiosmtpd's Mailbox).

Run as `python -m shop_local.runtime.smtp_sink --port 1025`.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

# Re-exported: the stack's set-up (stack/events.py) reads the sink's folder from here.
from shop_local.paths import MAILDIR as MAILDIR

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 1025


def ensure_maildir(maildir: Path) -> None:
    """Create `maildir` and its `tmp`, `new`, `cur` folders where missing; OSError if it cannot."""
    # All three folders: mailbox.Maildir creates them only when the top one is missing.
    for folder in ("tmp", "new", "cur"):
        (maildir / folder).mkdir(parents=True, exist_ok=True)


def create_sink(maildir: Path, host: str, port: int) -> Controller:
    """An unstarted aiosmtpd server on host:port that keeps every message in `maildir`.

    `maildir` is created if missing; `start()` raises when the port cannot be bound.
    """
    ensure_maildir(maildir)
    return Controller(Mailbox(maildir), hostname=host, port=port)


def main(argv: list[str] | None = None) -> int:
    """The sink's command line (see the module doc): accept mail until SIGTERM or SIGINT.

    Returns 0.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--maildir", type=Path, default=MAILDIR)
    args = parser.parse_args(argv)

    sink = create_sink(args.maildir, args.host, args.port)
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    sink.start()
    print(f"smtp-sink: listening on {args.host}:{args.port}, mail in {args.maildir}", flush=True)
    stop.wait()
    sink.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
