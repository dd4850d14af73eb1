"""The events stack: its own throw-away stack whose services reach RabbitMQ through a proxy.

Every process that talks to the broker here (the services, the emulator) goes through
`broker_proxy`, so a test can cut the broker off and bring it back; the tests
themselves publish and inspect queues on a direct connection. Relays run every second.
The mapping file, topology, SMTP sink and emulator are the shared fixtures of
tests/integration/conftest.py, pointed at this package's stack and proxy below.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.events.ordering import OrderingStack, order_publishing_missing
from tests.integration.events.proxy import TcpProxy
from tests.integration.events.support import with_port
from tests.support.client import ShopClient
from tests.support.stack import ThrowawayStack

RELAY_EVERY = "1"


@pytest.fixture(scope="package")
def events_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayStack]:
    throwaway = ThrowawayStack(Path(tmp_path_factory.mktemp("events-stack")))
    throwaway.set_up()
    try:
        yield throwaway
    finally:
        throwaway.tear_down()


@pytest.fixture(scope="package")
def amqp_url(events_stack: ThrowawayStack) -> str:
    """The throw-away vhost's administrator, reached directly (for the tests' own
    publishing and inspection; the services and the emulator use their own users)."""
    return events_stack.admin_amqp_url


@pytest.fixture(scope="package")
def broker_proxy(events_stack: ThrowawayStack) -> Iterator[TcpProxy]:
    proxy = TcpProxy("127.0.0.1", 5672)
    proxy.open()
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def broker_outage(broker_proxy: TcpProxy) -> Iterator[TcpProxy]:
    """The proxy, reopened after the test whatever happens in it."""
    try:
        yield broker_proxy
    finally:
        if not broker_proxy.is_open:
            broker_proxy.open()


def proxied(events_stack: ThrowawayStack, proxy: TcpProxy, service: str) -> str:
    """`service`'s own broker URL, through the proxy."""
    return with_port(events_stack.amqp_url(service), proxy.port)


@pytest.fixture(scope="package")
def mq_stack(events_stack: ThrowawayStack) -> ThrowawayStack:
    """The stack the shared mail sink and emulator (tests/integration/conftest.py) serve."""
    return events_stack


@pytest.fixture(scope="package")
def emulator_amqp_url(events_stack: ThrowawayStack, broker_proxy: TcpProxy) -> str:
    """The emulator, like the services here, reaches the broker through the proxy."""
    return proxied(events_stack, broker_proxy, "communication")


@pytest.fixture(scope="package")
def users(events_stack: ThrowawayStack, topology: None, broker_proxy: TcpProxy) -> ShopClient:
    handle = events_stack.start("user",
                                SHOP_USER_AMQP_URL=proxied(events_stack, broker_proxy, "user"),
                                SHOP_LOCAL_SCHEDULE_SECONDS=RELAY_EVERY)
    return ShopClient.to(handle.url)


@pytest.fixture(scope="package")
def ordering(events_stack: ThrowawayStack, users: ShopClient, topology: None,
             broker_proxy: TcpProxy) -> OrderingStack:
    """Product and order services on the events stack, publishing through the proxy."""
    missing = order_publishing_missing()
    if missing:
        pytest.skip(missing)
    events_stack.start("order",
                       SHOP_ORDER_AMQP_URL=proxied(events_stack, broker_proxy, "order"),
                       SHOP_LOCAL_SCHEDULE_SECONDS=RELAY_EVERY)
    products = events_stack.start("product",
                                  SHOP_PRODUCT_AMQP_URL=proxied(events_stack, broker_proxy,
                                                                "product"),
                                  SHOP_LOCAL_SCHEDULE_SECONDS=RELAY_EVERY)
    return OrderingStack(events_stack, ShopClient.to(products.url))
