"""Getting outbox rows to the broker: right after the commit, and by a scheduled relay.

A service needs three lines:

    with transaction_publishing(runtime(), OutboxEvent) as session:   # instead of transaction()
        ...                                                           # record_event(...) as before

    @app.schedule(Rate(1, unit=Rate.MINUTES))
    def relay_outbox(event): relay_unpublished(runtime(), OutboxEvent)

Rows are claimed with `FOR UPDATE SKIP LOCKED`, so the request that wrote a row, the
relay and any number of concurrent instances never publish the same row at once and
never wait for each other. A row is marked published only after the broker confirmed
it; a crash in between publishes it again, which consumers absorb (they deduplicate
on `event_id`). Publishing after the commit never fails or slows the request beyond
the publisher's short timeout: anything it could not do is left to the relay.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from shop_common import metrics
from shop_common.clock import utcnow
from shop_common.db import transaction
from shop_common.messaging import EventPublisher, OutgoingEvent, get_publisher
from shop_common.outbox import OutboxMixin
from shop_common.runtime import ServiceRuntime

log = logging.getLogger("shop.outbox")

RELAY_BATCH = 100
# One relay run publishes at most this many batches, so a huge backlog cannot make
# a run outlast its schedule; the next run continues.
RELAY_MAX_BATCHES = 20


def outgoing_event(row: OutboxMixin) -> OutgoingEvent:
    """An outbox row as the publisher sends it: its payload as compact JSON bytes."""
    return OutgoingEvent(
        event_id=str(row.id),
        event_type=row.event_type,
        body=json.dumps(row.payload, separators=(",", ":")).encode(),
        occurred_at=row.occurred_at,
    )


def publish_claimed(session: Session, model: type[OutboxMixin], publisher: EventPublisher, *,
                    ids: Sequence[uuid.UUID] | None = None, limit: int = RELAY_BATCH,
                    force: bool = False) -> tuple[int, int]:
    """Claim unpublished rows (all, or only `ids`), publish them, mark the confirmed ones.

    Returns (rows claimed, rows published). The caller's transaction holds the claim.
    """
    query = select(model).where(model.published_at.is_(None))
    if ids is not None:
        query = query.where(model.id.in_(list(ids)))
    rows = session.scalars(
        query.order_by(model.occurred_at).limit(limit).with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return 0, 0
    confirmed = publisher.publish([outgoing_event(row) for row in rows], force=force)
    now = utcnow()
    for row in rows:
        row.attempts += 1
        if str(row.id) in confirmed:
            row.published_at = now
    return len(rows), len(confirmed)


def publish_after_commit(runtime: ServiceRuntime, model: type[OutboxMixin],
                         event_ids: Sequence[uuid.UUID]) -> None:
    """Try to publish these just-committed events now; never raises."""
    if not event_ids:
        return
    publisher = get_publisher(runtime.settings)
    if not publisher.available():
        return  # the broker failed moments ago: no database work, the relay will do it
    try:
        with transaction(runtime.sessions) as session:
            publish_claimed(session, model, publisher, ids=event_ids)
    except Exception:  # the request already succeeded; the relay is the safety net
        log.warning("publishing after commit failed; left to the relay", exc_info=True)


@contextmanager
def transaction_publishing(runtime: ServiceRuntime, model: type[OutboxMixin]
                           ) -> Iterator[Session]:
    """`shop_common.db.transaction`, then publish the outbox rows it wrote, after the commit."""
    event_ids: list[uuid.UUID] = []

    # Collected as they are flushed: the identity map holds objects weakly, so an
    # event the caller did not keep a reference to may be gone from it by the end.
    def collect(flushed: Session, _context: object) -> None:
        event_ids.extend(row.id for row in flushed.new if isinstance(row, model))

    with transaction(runtime.sessions) as session:
        event.listen(session, "after_flush", collect)
        try:
            yield session
            session.flush()
        finally:
            event.remove(session, "after_flush", collect)
    publish_after_commit(runtime, model, event_ids)


def relay_unpublished(runtime: ServiceRuntime, model: type[OutboxMixin],
                      batch: int = RELAY_BATCH) -> int:
    """The scheduled relay: publish whatever is still unpublished; return how many were."""
    publisher = get_publisher(runtime.settings)
    published = 0
    for _ in range(RELAY_MAX_BATCHES):
        with transaction(runtime.sessions) as session:
            claimed, sent = publish_claimed(session, model, publisher, limit=batch, force=True)
        published += sent
        if claimed < batch or sent < claimed:
            break  # drained, or the broker is refusing: try again next run
    if published:
        log.info("outbox relay published events", extra={"published": published})
    report_pending(runtime, model)
    return published


def report_pending(runtime: ServiceRuntime, model: type[OutboxMixin]) -> int:
    """Set `outbox_pending` (and the oldest row's age) for this service; return the count."""
    with transaction(runtime.sessions) as session:
        count, oldest = session.execute(
            select(func.count(), func.min(model.occurred_at)).where(model.published_at.is_(None))
        ).one()
    age = (utcnow() - oldest).total_seconds() if oldest is not None else None
    metrics.set_outbox_pending(runtime.settings.service_name, int(count), age)
    return int(count)
