"""A signup becomes exactly one welcome email, through the outbox, RabbitMQ and the emulator."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from tests.integration.events.support import MailSink, text_of, wait_until
from tests.support.client import ShopClient, register, unique_email
from tests.support.stack import ThrowawayStack

pytestmark = pytest.mark.integration

QUIET_SECONDS = 1.5  # longer than a relay run and a batching window: time for a duplicate


def unpublished(stack: ThrowawayStack) -> int:
    engine = create_engine(stack.env["SHOP_USER_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return int(connection.execute(
                text("SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar_one())
    finally:
        engine.dispose()


def test_can_send_one_welcome_email_per_signup(
    events_stack: ThrowawayStack, users: ShopClient, emulator: object, mail_sink: MailSink
) -> None:
    email = unique_email("welcome")
    user = register(users, email=email, name="Ada <Lovelace>")

    [message] = wait_until(lambda: mail_sink.messages_to(email), what="welcome email")
    assert "Welcome" in str(message["Subject"])
    assert "Ada <Lovelace>" in text_of(message)
    html = text_of(message, "html")
    assert "Ada &lt;Lovelace&gt;" in html and "<Lovelace>" not in html
    assert message["X-Shop-Email-Kind"] == "signup"

    # Published right after the commit, not by the relay a minute later.
    assert unpublished(events_stack) == 0
    time.sleep(QUIET_SECONDS)
    assert len(mail_sink.messages_to(email)) == 1, f"duplicate welcome email for {user['id']}"
