"""The emulator killed in the middle of a batch: the batch comes back, each email goes once.

The kill is made deterministic by the mail server: an in-test SMTP server kills the
emulator (SIGKILL) when the function starts sending the ninth email of a batch of 20,
i.e. after eight were accepted and recorded. The messages were never acked, so
RabbitMQ redelivers the batch to the next emulator, which must send only the rest.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pika
import pytest
from aiosmtpd.controller import Controller

from shop_common.messaging import declare_topology_at
from shop_local.mappings import load_mapping_file
from tests.integration.events.support import (
    event_body,
    publish_many,
    start_emulator,
    wait_until,
    write_mappings,
)
from tests.support.stack import ThrowawayStack, free_port

pytestmark = pytest.mark.integration

BATCH = 20
KILL_AFTER = 8
QUEUE = "crashtest.signup_email"  # its own queue: the package's emulator never takes these


class KillingMailServer:
    """Stores messages in memory; kills `victim` at the first RCPT after `kill_after` messages,
    then refuses every RCPT until `resume()`.

    The function runs in an execution environment, a process of its own that outlives the
    killed emulator by a moment: refusing what it still tries keeps "sent before the kill"
    at exactly `kill_after`, however busy the machine.
    """

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.victim: int | None = None
        self.kill_after = 0
        self.refusing = False
        self.last_refusal = 0.0
        self._lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        with self._lock:
            if self.victim is not None and len(self.messages) >= self.kill_after:
                os.kill(self.victim, signal.SIGKILL)
                self.victim = None
                self.refusing = True
            if self.refusing:
                self.last_refusal = time.monotonic()
                return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def resume(self, quiet_seconds: float = 1.5) -> None:
        """Accept mail again once nothing has been refused for `quiet_seconds`."""
        wait_until(lambda: time.monotonic() - self.last_refusal > quiet_seconds,
                   what="the killed emulator's environment to stop sending")
        with self._lock:
            self.refusing = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def event_ids(self) -> Counter[str]:
        with self._lock:
            return Counter(str(m["X-Shop-Event-Id"]) for m in self.messages)


def test_can_resume_a_batch_after_the_emulator_is_killed(
    events_stack: ThrowawayStack, amqp_url: str, tmp_path: Path
) -> None:
    mappings = write_mappings(tmp_path / "mappings.json", mappings=[{
        "app": "communication", "function": "signup_email", "queue": QUEUE,
        "routing_key": "crashtest.signed_up", "batch_size": 100,
        "maximum_batching_window_seconds": 1.0,
    }])
    declare_topology_at(amqp_url, load_mapping_file(mappings).queue_specs())
    published, messages = [], []
    for n in range(BATCH):
        event_id, body = event_body("user.signed_up", {
            "user_id": str(uuid.uuid4()), "email": f"crash-{n}-{uuid.uuid4().hex[:6]}@example.com",
            "name": f"Crash {n}", "role": "enduser"})
        published.append(event_id)
        messages.append(("crashtest.signed_up", body,
                         pika.BasicProperties(message_id=event_id, delivery_mode=2)))
    publish_many(amqp_url, messages)

    server = KillingMailServer()
    port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        first = start_emulator(events_stack, "crash-emulator", mappings, "communication",
                               SHOP_COMMUNICATION_AMQP_URL=amqp_url,  # its own test queue
                               SHOP_SMTP_PORT=str(port))
        server.victim, server.kill_after = first.process.pid, KILL_AFTER
        first.process.wait(60)
        assert first.process.returncode == -signal.SIGKILL, first.log()[-2000:]
        assert sum(server.event_ids().values()) == KILL_AFTER
        server.resume()

        second = start_emulator(events_stack, "crash-emulator", mappings, "communication",
                                SHOP_COMMUNICATION_AMQP_URL=amqp_url,  # its own test queue
                                SHOP_SMTP_PORT=str(port))
        try:
            wait_until(lambda: len(server.event_ids()) == BATCH, what="all 20 emails")
            wait_until(lambda: (second.status() or {}).get("mappings", [{}])[0]
                       .get("invocations", 0) >= 1, what="the redelivered batch settled")
        finally:
            second.stop()
    finally:
        controller.stop()

    assert server.event_ids() == Counter({event_id: 1 for event_id in published})
    # The second emulator got the same batch back and skipped what was already sent.
    assert second.log().count("email already sent; skipped") == KILL_AFTER
