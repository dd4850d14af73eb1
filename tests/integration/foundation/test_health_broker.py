"""`/health`'s broker check: one long-lived connection, replaced when it died, pika quiet.

The probes connect as the user service's own broker user, as that service's `/health` does.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from pika.exceptions import AMQPError

from shop_common.health import BrokerProbe, broker_probe
from tests.integration.events.proxy import TcpProxy
from tests.integration.events.support import with_port
from tests.support.stack import ThrowawayStack, free_port

pytestmark = pytest.mark.integration


def test_checks_reuse_one_connection(stack: ThrowawayStack) -> None:
    probe = BrokerProbe(stack.amqp_url("user"))
    try:
        probe.check()
        first = probe._connection
        for _ in range(5):
            probe.check()
        assert first is not None and probe._connection is first and first.is_open
    finally:
        probe.close()


def test_a_connection_that_died_is_replaced(stack: ThrowawayStack) -> None:
    proxy = TcpProxy("127.0.0.1", 5672)
    proxy.open()
    probe = BrokerProbe(with_port(stack.amqp_url("user"), proxy.port))
    try:
        probe.check()
        dead = probe._connection
        proxy.close()  # cuts the connection, as a broker restart would
        with pytest.raises((AMQPError, OSError)):
            probe.check()  # while the broker is away, it is reported down
        proxy.open()

        probe.check()  # and up again once it is back, on a new connection

        assert probe._connection is not None and probe._connection is not dead
    finally:
        probe.close()
        proxy.close()


def test_a_broker_that_is_not_there_is_reported() -> None:
    probe = BrokerProbe(f"amqp://guest:guest@127.0.0.1:{free_port()}/nowhere")
    with pytest.raises((AMQPError, OSError)):
        probe.check()


def test_pika_logs_nothing_at_info(stack: ThrowawayStack,
                                   caplog: pytest.LogCaptureFixture) -> None:
    probe = broker_probe(stack.amqp_url("user"))
    with caplog.at_level(logging.INFO):
        probe.check()
        probe.check()
    assert not [r for r in caplog.records if r.name.startswith("pika")]


class CountingProbe(BrokerProbe):
    """A real probe whose checks last long enough for callers to overlap."""

    checks = 0

    def _check_now(self) -> None:
        self.checks += 1
        super()._check_now()
        time.sleep(0.2)


def test_callers_during_a_check_share_its_answer(stack: ThrowawayStack) -> None:
    probe = CountingProbe(stack.amqp_url("user"))
    callers = 16
    barrier = threading.Barrier(callers)

    def call(_: int) -> None:
        barrier.wait(timeout=30)
        probe.check()

    try:
        with ThreadPoolExecutor(callers) as pool:
            list(pool.map(call, range(callers)))  # every caller got an answer
    finally:
        probe.close()
    assert probe.checks < callers


def test_callers_during_a_failing_check_all_hear_of_the_failure() -> None:
    probe = CountingProbe(f"amqp://guest:guest@127.0.0.1:{free_port()}/nowhere")
    callers = 4
    barrier = threading.Barrier(callers)

    def call(_: int) -> str:
        barrier.wait(timeout=30)
        try:
            probe.check()
        except (AMQPError, OSError) as exc:
            return type(exc).__name__
        return "up"

    with ThreadPoolExecutor(callers) as pool:
        answers = list(pool.map(call, range(callers)))
    assert "up" not in answers
