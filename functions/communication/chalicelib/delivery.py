"""Sending each event's email once, however often the message is delivered.

The row for (event, kind) is inserted first and committed only after the mail server
accepted the message, in one transaction: a concurrent delivery of the same event
waits on that row and then finds it; a failed send rolls it back so a retry sends.
The only way to send twice is to die between the server's "accepted" and the
commit, a window of one database round trip.

A batch is all-or-nothing for the event-source mapping, so every message is handled
before the function raises: good messages are sent (and skipped when redelivered),
while an unparseable one, or a send that failed, makes the batch fail and come back.
An unparseable message thus reaches the dead-letter queue after the delivery limit
instead of being retried forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from chalicelib.deps import SERVICE, mailer, runtime
from chalicelib.emails import Email, mime_message
from chalicelib.mailers import Mailer
from chalicelib.messages import read_batch
from chalicelib.models import SentEmail
from shop_common import metrics
from shop_common.db import transaction
from shop_common.outbox import utcnow

log = logging.getLogger("shop.communication")

EventT = TypeVar("EventT", bound=BaseModel)


class BatchFailed(Exception):
    """Some messages of the batch were not handled; the mapping redelivers the whole batch."""


def send_once(sessions: sessionmaker[Session], mail: Mailer, email: Email, sender: str) -> bool:
    """Send unless this event's email of this kind was sent before; True when sent now."""
    message = mime_message(email, sender)
    with transaction(sessions) as session:
        claimed = session.execute(
            insert(SentEmail)
            .values(event_id=email.event_id, kind=email.kind, recipient=email.to,
                    subject=email.subject[:200], message_id=str(message["Message-ID"]),
                    sent_at=utcnow())
            .on_conflict_do_nothing(index_elements=["event_id", "kind"])
            .returning(SentEmail.event_id)
        ).first()
        if claimed is None:
            return False
        mail.send(message)
    return True


def deliver_batch(event: dict[str, Any], model: type[EventT], kind: str,
                  render: Callable[[EventT], Email]) -> dict[str, int]:
    batch = read_batch(event, model)
    for bad in batch.unparseable:
        metrics.email_failed(SERVICE, kind)
        log.error("unparseable message left to the dead-letter queue", extra={
            "source": bad.source, "message_id": bad.message_id, "reason": bad.reason,
        })
    rt = runtime()
    sent = duplicates = failed = 0
    for item in batch.events:
        email = render(item)
        try:
            if send_once(rt.sessions, mailer(), email, rt.settings.mail_sender):
                sent += 1
                metrics.email_sent(SERVICE, kind)
                log.info("email sent", extra={"kind": kind, "event_id": str(email.event_id)})
            else:
                duplicates += 1
                log.info("email already sent; skipped",
                         extra={"kind": kind, "event_id": str(email.event_id)})
        except Exception:  # one failed send must not stop the rest of the batch
            failed += 1
            metrics.email_failed(SERVICE, kind)
            log.exception("email not sent", extra={"kind": kind, "event_id": str(email.event_id)})
    summary = {"sent": sent, "duplicates": duplicates, "failed": failed,
               "unparseable": len(batch.unparseable)}
    if failed or batch.unparseable:
        raise BatchFailed(f"{kind}: {summary}")
    return summary
