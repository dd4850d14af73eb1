"""Sending each event's email once, however often the message is delivered.

The row for (event, kind) is inserted first and committed only after the mail server
accepted the message, in one transaction: a concurrent delivery of the same event
waits on that row and then finds it; a failed send rolls it back so a retry sends.
The only way to send twice is to die between the server's "accepted" and the
commit, a window of one database round trip.

A batch is all-or-nothing for the event-source mapping (Amazon MQ has no partial-batch
response, https://docs.aws.amazon.com/lambda/latest/dg/with-mq.html): if the function
raises, every message of the batch comes back, and after the queue's delivery limit
the broker dead-letters them all, good ones included. So the function sorts them
itself:

- a message that can never succeed (it fails validation, or the mail server refuses
  it with a 5xx) is *parked*: put into `<queue>.dlq` by the function, with the reason
  in the `x-shop-parked-reason` header, and the batch goes on. Parking is recorded in
  the database as sending is, so a redelivered batch parks a message once;
- a failure that may pass (mail server or database down, broker unreachable while
  parking) fails the batch after every message was tried, so it is redelivered;
  what was sent meanwhile is skipped on the way round.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from chalicelib import SERVICE
from chalicelib.emails import Email, mime_message
from chalicelib.mailers import Mailer, PermanentSendError
from chalicelib.messages import Received, Unparseable, read_batch
from chalicelib.models import ParkedMessage, SentEmail
from shop_common import metrics
from shop_common.clock import utcnow
from shop_common.db import transaction
from shop_common.messaging import MessageToPark, park_messages

log = logging.getLogger("shop.communication")

EventT = TypeVar("EventT", bound=BaseModel)


@dataclass(frozen=True)
class DeliveryDeps:
    """What delivering a batch needs: the database, the mail server, the sender address,
    and the broker (URL, publish timeout in seconds) to park messages in."""

    sessions: sessionmaker[Session]
    mailer: Mailer
    sender: str
    amqp_url: str
    park_timeout_seconds: float


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


def digest_of(message: Received) -> str:
    identity = b"\x00".join([message.queue.encode(), (message.message_id or "").encode(),
                             message.body])
    return hashlib.sha256(identity).hexdigest()


def park_once(sessions: sessionmaker[Session], amqp_url: str, timeout: float,
              rejected: Unparseable) -> bool:
    """Park the message unless this service parked it before; True when parked now.

    Raises (shop_common.messaging.ParkingError, a database error) when it could not:
    the message must then come back with its batch.
    """
    message = rejected.message
    with transaction(sessions) as session:
        claimed = session.execute(
            insert(ParkedMessage)
            .values(digest=digest_of(message), queue=message.queue[:200],
                    message_id=message.message_id[:200] if message.message_id else None,
                    reason=rejected.reason[:500], parked_at=utcnow())
            .on_conflict_do_nothing(index_elements=["digest"])
            .returning(ParkedMessage.digest)
        ).first()
        if claimed is None:
            return False
        park_messages(amqp_url, [MessageToPark(message.queue, message.body,
                                               message.properties, rejected.reason)], timeout)
    return True


def deliver_batch(deps: DeliveryDeps, event: dict[str, Any], model: type[EventT], kind: str,
                  render: Callable[[EventT], Email]) -> dict[str, int]:
    """Send each event's email of `kind` once; park what can never be sent.

    `event` is an Amazon MQ for RabbitMQ Lambda event. Returns the counts `sent`,
    `duplicates`, `failed`, `parked`; raises BatchFailed when a message may succeed
    later, so the mapping redelivers the whole batch.
    """
    batch = read_batch(event, model)
    rejected = list(batch.unparseable)
    sent = duplicates = failed = 0
    for item in batch.events:
        email = render(item.event)
        try:
            if send_once(deps.sessions, deps.mailer, email, deps.sender):
                sent += 1
                metrics.email_sent(SERVICE, kind)
                log.info("email sent", extra={"kind": kind, "event_id": str(email.event_id)})
            else:
                duplicates += 1
                log.info("email already sent; skipped",
                         extra={"kind": kind, "event_id": str(email.event_id)})
        except PermanentSendError as exc:
            rejected.append(Unparseable(item.message, f"refused by the mail server: {exc}"))
        except Exception:  # one failed send must not stop the rest of the batch
            failed += 1
            metrics.email_failed(SERVICE, kind)
            log.exception("email not sent", extra={"kind": kind, "event_id": str(email.event_id)})
    parked = 0
    for bad in rejected:
        metrics.email_failed(SERVICE, kind)
        extra = {"queue": bad.message.queue, "message_id": bad.message.message_id,
                 "reason": bad.reason}
        try:
            if park_once(deps.sessions, deps.amqp_url, deps.park_timeout_seconds, bad):
                parked += 1
                log.error("message parked in the dead-letter queue", extra=extra)
        except Exception:
            failed += 1
            log.exception("message could not be parked; the batch will come back", extra=extra)
    summary = {"sent": sent, "duplicates": duplicates, "failed": failed, "parked": parked}
    if failed:
        raise BatchFailed(f"{kind}: {summary}")
    return summary
