"""The transactional outbox: an event row committed with the business row that caused it.

A service declares its table with `OutboxMixin` and writes events with `record_event`
inside the same session as its business change. Publishing the rows is the job of
the messaging module; here they are only made durable.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Uuid
from sqlalchemy.orm import Mapped, Session, mapped_column

from shop_common.clock import utcnow


class OutboxMixin:
    """Columns of an outbox table; `id` is the event id consumers deduplicate on."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    event_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


def event_message(event_id: uuid.UUID, event_type: str, occurred_at: datetime,
                  data: dict[str, Any]) -> dict[str, Any]:
    """The message body every consumer reads: `{event_id, type, occurred_at, data}`.

    `event_id` is a UUID string (consumers deduplicate on it), `occurred_at` an ISO 8601
    timestamp, `data` the event's own JSON-ready fields.
    """
    return {
        "event_id": str(event_id),
        "type": event_type,
        "occurred_at": occurred_at.isoformat(),
        "data": data,
    }


def record_event(session: Session, model: type[OutboxMixin], event_type: str,
                 data: dict[str, Any]) -> OutboxMixin:
    """Add an event row of type `event_type` to `session` and return it (not yet flushed).

    `data` must be JSON-ready; the row's `payload` is the whole message body
    (`event_message`), its `id` the new event id. Committing the session commits the event
    with the business change it describes.
    """
    # Attributes set one by one: the mixin alone has no mapped constructor to type-check.
    event = model()
    event.id = uuid.uuid4()
    event.event_type = event_type
    event.occurred_at = utcnow()
    event.attempts = 0
    event.payload = event_message(event.id, event_type, event.occurred_at, data)
    session.add(event)
    return event
