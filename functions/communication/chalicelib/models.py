"""Tables of the communication database."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shop_common.clock import utcnow


class Base(DeclarativeBase):
    pass


class SentEmail(Base):
    """An email handed to the mail server for one event; its key is what makes resends no-ops."""

    __tablename__ = "sent_emails"

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ParkedMessage(Base):
    """A message put into its dead-letter queue by this service; the key makes a
    redelivered batch park it only once."""

    __tablename__ = "parked_messages"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    queue: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reason: Mapped[str] = mapped_column(String(500))
    parked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
