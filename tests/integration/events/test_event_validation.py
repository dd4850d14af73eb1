"""A message that can never succeed is parked by the function; the rest of its batch goes on.

Amazon MQ has no partial-batch response: a function that raises gets its whole batch
back, and after the delivery limit the broker dead-letters all of it, good messages
included. The communication functions validate every field first, park a message
that fails in `<queue>.dlq` themselves (reason in `x-shop-parked-reason`), and raise
only for failures that may pass.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pika
import pytest

from shop_common.messaging import PARKED_FROM_HEADER, PARKED_REASON_HEADER, declare_topology_at
from shop_local.mappings import load_mapping_file
from tests.integration.events.proxy import TcpProxy
from tests.integration.events.support import (
    EmulatorProcess,
    MailSink,
    drain,
    event_body,
    event_ids,
    publish_many,
    ready_count,
    start_emulator,
    wait_until,
    write_mappings,
)
from tests.integration.events.test_order_invoice import order_placed_data
from tests.support.client import unique_email
from tests.support.stack import ThrowawayStack

pytestmark = pytest.mark.integration

QUEUE = "communication.order_invoice"
QUIET_SECONDS = 1.5


def as_published(routing_key: str, event_id: str, body: bytes) -> tuple[str, bytes,
                                                                          pika.BasicProperties]:
    return routing_key, body, pika.BasicProperties(
        message_id=event_id, type="order.placed", content_type="application/json",
        delivery_mode=2)


def good_invoices(count: int) -> dict[str, tuple[str, bytes]]:
    """event id → (recipient, body) of well-formed order.placed events."""
    made = {}
    for _ in range(count):
        email = unique_email("batch")
        event_id, body = event_body("order.placed", order_placed_data(email))
        made[event_id] = (email, body)
    return made


def poison_invoice() -> tuple[str, str, bytes]:
    """The issue's poison: an `order.placed` whose order_id holds CR/LF."""
    email = unique_email("poison")
    event_id, body = event_body("order.placed", order_placed_data(
        email, order_id=f"{uuid.uuid4()}\r\nBcc: victim@example.com"))
    return event_id, email, body


def header(properties: pika.BasicProperties, name: str) -> str:
    value = (properties.headers or {})[name]
    return value.decode() if isinstance(value, bytes) else str(value)


def test_a_poison_order_placed_is_parked_and_the_rest_of_its_batch_is_emailed_once(
    amqp_url: str, emulator: EmulatorProcess, mail_sink: MailSink,
) -> None:
    drain(amqp_url, f"{QUEUE}.dlq")  # whatever earlier tests left
    good = good_invoices(4)
    poison_id, poison_email, poison_body = poison_invoice()
    batch = [as_published("order.placed", event_id, body) for event_id, (_, body) in good.items()]
    batch.insert(2, as_published("order.placed", poison_id, poison_body))
    publish_many(amqp_url, batch)  # within one batching window: one batch

    def all_emailed() -> bool:
        return all(mail_sink.messages_to(email) for email, _ in good.values())

    wait_until(all_emailed, what="every good invoice")
    parked = wait_until(lambda: drain(amqp_url, f"{QUEUE}.dlq"), what="the poison parked")
    time.sleep(QUIET_SECONDS)
    parked += drain(amqp_url, f"{QUEUE}.dlq")

    [(properties, body)] = parked  # the poison, and nothing else
    assert properties.message_id == poison_id and body == poison_body
    assert header(properties, PARKED_REASON_HEADER).startswith("data.order_id: ")
    assert header(properties, PARKED_FROM_HEADER) == QUEUE
    for event_id, (email, _) in good.items():
        assert event_ids(mail_sink.messages_to(email)) == {event_id: 1}
    assert not mail_sink.messages_to(poison_email)
    assert ready_count(amqp_url, QUEUE) == 0
    assert "Bcc: victim" not in emulator.log()  # the reason names the field, not the value


# --- with the mail server down for a while -----------------------------------------------

@pytest.fixture
def flaky_mail(events_stack: ThrowawayStack, amqp_url: str, mail_sink: MailSink,
               tmp_path: Path) -> Iterator[tuple[str, TcpProxy, EmulatorProcess]]:
    """An emulator of its own queue whose SMTP goes through a proxy that starts closed.

    Its queue allows many deliveries, so the broker's own dead-lettering stays out of
    the way while the batch comes back. It consumes as a communication broker user
    granted that queue alone (the stack's own may read only the package's queues).
    """
    queue = f"test.invoices-{uuid.uuid4().hex[:8]}"
    mappings = write_mappings(tmp_path / "mappings.json", mappings=[
        {"app": "communication", "function": "order_invoice", "queue": queue,
         "routing_key": queue, "batch_size": 100, "maximum_batching_window_seconds": 0.5},
    ], delivery_limit=1000)
    declare_topology_at(amqp_url, load_mapping_file(mappings).queue_specs())
    proxy = TcpProxy("127.0.0.1", mail_sink.port)
    emulator = start_emulator(
        events_stack, "flaky-mail-emulator", mappings, "communication",
        SHOP_COMMUNICATION_AMQP_URL=events_stack.broker_user_for("communication", mappings),
        SHOP_SMTP_PORT=str(proxy.port))
    try:
        emulator.wait_consuming()
        yield queue, proxy, emulator
    finally:
        emulator.stop()
        proxy.close()


def test_while_mail_is_down_the_batch_comes_back_and_its_poison_is_parked_once(
    amqp_url: str, mail_sink: MailSink, flaky_mail: tuple[str, TcpProxy, EmulatorProcess],
) -> None:
    queue, smtp, emulator = flaky_mail
    good = good_invoices(3)
    poison_id, _, poison_body = poison_invoice()
    publish_many(amqp_url, [as_published(queue, poison_id, poison_body)] + [
        as_published(queue, event_id, body) for event_id, (_, body) in good.items()])

    # A send that failed is not a poison: the batch is raised and comes back, again and again.
    wait_until(lambda: emulator.log().count("email not sent") >= 3 * len(good),
               what="the batch redelivered while mail is down")
    assert not any(mail_sink.messages_to(email) for email, _ in good.values())
    smtp.open()
    wait_until(lambda: all(mail_sink.messages_to(email) for email, _ in good.values()),
               what="every invoice once mail is back")
    time.sleep(QUIET_SECONDS)

    for event_id, (email, _) in good.items():
        assert event_ids(mail_sink.messages_to(email)) == {event_id: 1}
    parked = drain(amqp_url, f"{queue}.dlq")
    assert [p.message_id for p, _ in parked] == [poison_id]  # parked once, for all the rounds
    assert json.loads(parked[0][1])["event_id"] == poison_id
    assert ready_count(amqp_url, queue) == 0
