"""`/health`'s broker check: one long-lived connection, replaced when it died, pika quiet."""

from __future__ import annotations

import logging

import pytest
from pika.exceptions import AMQPError

from shop_common.health import BrokerProbe, broker_probe
from tests.integration.events.proxy import TcpProxy
from tests.integration.events.support import with_port
from tests.support.stack import ThrowawayStack, free_port

pytestmark = pytest.mark.integration


def test_checks_reuse_one_connection(stack: ThrowawayStack) -> None:
    probe = BrokerProbe(stack.env["SHOP_AMQP_URL"])
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
    probe = BrokerProbe(with_port(stack.env["SHOP_AMQP_URL"], proxy.port))
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
    probe = broker_probe(stack.env["SHOP_AMQP_URL"])
    with caplog.at_level(logging.INFO):
        probe.check()
        probe.check()
    assert not [r for r in caplog.records if r.name.startswith("pika")]
