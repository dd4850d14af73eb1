"""The shared outbox publishing (shop_common.outbox_relay) against real PostgreSQL and RabbitMQ.

Runs in the test process on a scratch outbox table in the communication database,
which no running service relays, with a queue of its own bound to `shop.events`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pika
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from shop_common.config import Settings, validate_settings
from shop_common.outbox import OutboxMixin, record_event
from shop_common.outbox_relay import relay_unpublished, report_pending, transaction_publishing
from tests.support.stack import ThrowawayStack, free_port

pytestmark = pytest.mark.integration


class Base(DeclarativeBase):
    pass


class ScratchOutbox(OutboxMixin, Base):
    __tablename__ = "scratch_outbox"


@dataclass(frozen=True)
class Runtime:
    """The two parts of a ServiceRuntime the outbox helpers use."""

    settings: Settings
    sessions: sessionmaker[Session]


@pytest.fixture(scope="module")
def sessions(events_stack: ThrowawayStack) -> Iterator[sessionmaker[Session]]:
    engine = create_engine(events_stack.env["SHOP_COMMUNICATION_DATABASE_URL"])
    Base.metadata.create_all(engine)
    try:
        yield sessionmaker(engine, expire_on_commit=False)
    finally:
        Base.metadata.drop_all(engine)
        engine.dispose()


@pytest.fixture
def routing_key() -> str:
    return f"scratch.{uuid.uuid4().hex[:8]}"


@pytest.fixture
def queue(amqp_url: str, routing_key: str) -> Iterator[Any]:
    """A queue receiving this test's routing key; yields a function that empties it."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.exchange_declare("shop.events", exchange_type="topic", durable=True)
    name = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(name, "shop.events", routing_key=routing_key)

    def take() -> list[tuple[pika.BasicProperties, bytes]]:
        taken: list[tuple[pika.BasicProperties, bytes]] = []
        while True:
            method, properties, body = channel.basic_get(name, auto_ack=True)
            if method is None:
                return taken
            taken.append((properties, body))

    try:
        yield take
    finally:
        connection.close()


def runtime(events_stack: ThrowawayStack, sessions: sessionmaker[Session], amqp_url: str,
            breaker_seconds: float = 5.0) -> Any:
    settings = validate_settings("communication", {
        "database_url": events_stack.env["SHOP_COMMUNICATION_DATABASE_URL"],
        "amqp_url": amqp_url, "amqp_publish_timeout_seconds": "1",
        "amqp_breaker_seconds": str(breaker_seconds),
    })
    return Runtime(settings, sessions)


def write_event(rt: Any, routing_key: str, n: int = 0) -> uuid.UUID:
    with transaction_publishing(rt, ScratchOutbox) as session:
        record_event(session, ScratchOutbox, routing_key, {"n": n})
        # The event is not kept here: the helper must still find it after the commit.
    with rt.sessions() as session:
        row = session.scalars(select(ScratchOutbox).where(
            ScratchOutbox.event_type == routing_key).order_by(ScratchOutbox.occurred_at.desc())
        ).first()
        assert row is not None
        event_id: uuid.UUID = row.id
        return event_id


def row(rt: Any, event_id: uuid.UUID) -> ScratchOutbox:
    with rt.sessions() as session:
        found: ScratchOutbox | None = session.get(ScratchOutbox, event_id)
        assert found is not None
        return found


def test_can_publish_right_after_the_commit(
    events_stack: ThrowawayStack, sessions: sessionmaker[Session], amqp_url: str,
    routing_key: str, queue: Any,
) -> None:
    rt = runtime(events_stack, sessions, amqp_url)
    event_id = write_event(rt, routing_key)

    published = row(rt, event_id)
    assert published.published_at is not None and published.attempts == 1
    [(properties, body)] = queue()
    assert properties.message_id == str(event_id)
    assert properties.content_type == "application/json" and properties.delivery_mode == 2
    assert properties.type == routing_key
    assert json.loads(body) == published.payload


def test_cannot_slow_requests_while_the_broker_is_down(
    events_stack: ThrowawayStack, sessions: sessionmaker[Session], amqp_url: str,
    routing_key: str, queue: Any,
) -> None:
    nowhere = f"amqp://nobody:nothing@127.0.0.1:{free_port()}/{amqp_url.rsplit('/', 1)[1]}"
    down = runtime(events_stack, sessions, nowhere, breaker_seconds=60)
    started = time.monotonic()
    first = write_event(down, routing_key, 1)
    second = write_event(down, routing_key, 2)  # the breaker is open: not even tried
    assert time.monotonic() - started < 2.0
    assert row(down, first).published_at is None and row(down, first).attempts == 1
    assert row(down, second).published_at is None and row(down, second).attempts == 0
    assert queue() == []

    up = runtime(events_stack, sessions, amqp_url)
    assert relay_unpublished(up, ScratchOutbox) == 2
    assert sorted(json.loads(body)["event_id"] for _, body in queue()) == sorted(
        str(i) for i in (first, second))
    assert report_pending(up, ScratchOutbox) == 0


def test_can_relay_around_rows_another_relay_holds(
    events_stack: ThrowawayStack, sessions: sessionmaker[Session], amqp_url: str,
    routing_key: str, queue: Any,
) -> None:
    nowhere = f"amqp://nobody:nothing@127.0.0.1:{free_port()}/x"
    down = runtime(events_stack, sessions, nowhere, breaker_seconds=60)
    held, free = write_event(down, routing_key, 1), write_event(down, routing_key, 2)
    up = runtime(events_stack, sessions, amqp_url)

    with sessions() as other, other.begin():
        other.execute(text("SELECT 1 FROM scratch_outbox WHERE id = :id FOR UPDATE"),
                      {"id": held})
        assert relay_unpublished(up, ScratchOutbox) == 1  # did not wait for the lock
        assert [p.message_id for p, _ in queue()] == [str(free)]
    assert relay_unpublished(up, ScratchOutbox) == 1
    assert [p.message_id for p, _ in queue()] == [str(held)]


def test_cannot_count_an_unroutable_event_as_published(
    events_stack: ThrowawayStack, sessions: sessionmaker[Session], amqp_url: str,
) -> None:
    rt = runtime(events_stack, sessions, amqp_url)
    event_id = write_event(rt, f"nobody.listens.{uuid.uuid4().hex[:8]}")
    unroutable = row(rt, event_id)
    assert unroutable.published_at is None and unroutable.attempts == 1
    with rt.sessions() as session, session.begin():
        session.delete(session.get(ScratchOutbox, event_id))
