"""RabbitMQ gone while people sign up and order: every request succeeds, no email is lost.

The outage is a proxy between every process and RabbitMQ (the machine's broker is
shared, so it is never stopped): closing it cuts all connections and refuses new
ones. Publishing after the commit fails fast, the outbox keeps the events, and once
the broker is back the relays (every second here) publish them and the emulator,
reconnected, delivers them; consumers' deduplication absorbs any republication.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text

from tests.integration.events.ordering import OrderingStack
from tests.integration.events.proxy import TcpProxy
from tests.integration.events.support import EmulatorProcess, MailSink, wait_until
from tests.support.client import DEFAULT_PASSWORD, ShopClient, unique_email
from tests.support.stack import ThrowawayStack

pytestmark = pytest.mark.integration

SIGNUPS = 30  # argon2 makes each sign-up cost ~0.1 s of CPU; orders below go to 100
ORDERS = 100
SLOW_REQUEST_SECONDS = 3.0


def unpublished(stack: ThrowawayStack, service: str) -> int:
    engine = create_engine(stack.env[f"SHOP_{service.upper()}_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return int(connection.execute(
                text("SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar_one())
    finally:
        engine.dispose()


def emulator_reconnecting(emulator: EmulatorProcess) -> bool:
    status = emulator.status() or {}
    return any(m["state"] != "consuming" for m in status.get("mappings", []))


def assert_each_once(sink: MailSink, recipients: list[str], timeout: float = 60) -> None:
    wanted = {r.lower() for r in recipients}

    def arrived() -> int:
        return len({str(m["To"]).lower() for m in sink.messages()} & wanted)

    wait_until(lambda: arrived() == len(wanted), timeout, what=f"{len(wanted)} emails")
    time.sleep(1.5)  # a relay run and a batching window: time enough for a duplicate
    per_recipient = [len(sink.messages_to(r)) for r in recipients]
    assert per_recipient == [1] * len(recipients)
    ids = [str(m["X-Shop-Event-Id"]) for m in sink.messages() if str(m["To"]).lower() in wanted]
    assert len(set(ids)) == len(recipients)


def test_can_sign_up_during_a_broker_outage_and_send_every_welcome_email_once(
    events_stack: ThrowawayStack, users: ShopClient, emulator: EmulatorProcess,
    mail_sink: MailSink, broker_outage: TcpProxy,
) -> None:
    broker_outage.close()
    wait_until(lambda: emulator_reconnecting(emulator), 10, what="emulator notices the outage")

    def sign_up(email: str) -> float:
        started = time.monotonic()
        response = users.call("POST", "/users/register", json={
            "email": email, "password": DEFAULT_PASSWORD, "name": "Outage"})
        assert response.status_code == 201, response.text
        return time.monotonic() - started

    emails = [unique_email("outage") for _ in range(SIGNUPS)]
    with ThreadPoolExecutor(4) as pool:
        durations = list(pool.map(sign_up, emails))
    assert max(durations) < SLOW_REQUEST_SECONDS, durations
    assert unpublished(events_stack, "user") >= SIGNUPS
    assert not any(mail_sink.messages_to(email) for email in emails)

    broker_outage.open()
    assert_each_once(mail_sink, emails)
    wait_until(lambda: unpublished(events_stack, "user") == 0, what="user outbox drained")


def test_can_place_100_orders_during_a_broker_outage_and_send_every_invoice_once(
    events_stack: ThrowawayStack, ordering: OrderingStack, emulator: EmulatorProcess,
    mail_sink: MailSink, broker_outage: TcpProxy,
) -> None:
    buyers = ordering.new_buyers(ORDERS)
    product = ordering.new_product(price="4.25", stock=ORDERS)
    broker_outage.close()
    wait_until(lambda: emulator_reconnecting(emulator), 10, what="emulator notices the outage")

    def order(index: int) -> float:
        started = time.monotonic()
        ordering.place_order(buyers[index], product["id"], quantity=1)
        return time.monotonic() - started

    with ThreadPoolExecutor(4) as pool:
        durations = list(pool.map(order, range(ORDERS)))
    assert max(durations) < SLOW_REQUEST_SECONDS, durations
    assert unpublished(events_stack, "order") >= ORDERS

    broker_outage.open()
    assert_each_once(mail_sink, [b.email for b in buyers])
    wait_until(lambda: unpublished(events_stack, "order") == 0, what="order outbox drained")
