"""The events stack: its own throw-away stack whose services reach RabbitMQ through a proxy.

Every process that talks to the broker here (the services, the emulator) goes through
`broker_proxy`, so a test can cut the broker off and bring it back; the tests
themselves publish and inspect queues on a direct connection. Relays run every second.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shop_common.messaging import declare_topology_at
from shop_local.backing import port_open
from shop_local.event_mappings import load_mapping_file
from shop_local.paths import ROOT
from tests.integration.events.ordering import OrderingStack, order_publishing_missing
from tests.integration.events.proxy import TcpProxy
from tests.integration.events.support import (
    EmulatorProcess,
    MailSink,
    start_emulator,
    wait_until,
    with_port,
    write_mappings,
)
from tests.support.client import ShopClient
from tests.support.stack import ThrowawayStack, free_port

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
    """The throw-away vhost, reached directly (for the tests' own publishing)."""
    return events_stack.env["SHOP_AMQP_URL"]


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


@pytest.fixture(scope="package")
def proxied_amqp_url(amqp_url: str, broker_proxy: TcpProxy) -> str:
    return with_port(amqp_url, broker_proxy.port)


@pytest.fixture(scope="package")
def mappings_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mappings(tmp_path_factory.mktemp("mappings") / "event-source-mappings.json")


@pytest.fixture(scope="package")
def topology(amqp_url: str, mappings_file: Path) -> None:
    """The queues of the mapping file, declared before anything publishes (as `shop up` does)."""
    declare_topology_at(amqp_url, load_mapping_file(mappings_file, amqp_url=amqp_url).queue_specs())


@pytest.fixture(scope="package")
def mail_sink(events_stack: ThrowawayStack) -> Iterator[MailSink]:
    port = free_port()
    maildir = events_stack.workdir / "mail"
    log_path = events_stack.workdir / "smtp-sink.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "shop_local.smtp_sink", "--port", str(port),
         "--maildir", str(maildir)],
        env=events_stack.process_env(), cwd=ROOT,
        stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
    )
    sink = MailSink(process, port, maildir)
    try:
        wait_until(lambda: port_open("127.0.0.1", port), 20, what="SMTP sink listening")
        yield sink
    finally:
        sink.stop()


@pytest.fixture(scope="package")
def emulator(events_stack: ThrowawayStack, topology: None, mail_sink: MailSink,
             mappings_file: Path, proxied_amqp_url: str) -> Iterator[EmulatorProcess]:
    """The communication app's mappings, sending to the package's SMTP sink."""
    process = start_emulator(events_stack, "mq-emulator", mappings_file, "communication",
                             SHOP_AMQP_URL=proxied_amqp_url, SHOP_SMTP_PORT=str(mail_sink.port))
    try:
        process.wait_consuming()
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="package")
def users(events_stack: ThrowawayStack, topology: None, proxied_amqp_url: str) -> ShopClient:
    handle = events_stack.start("user", SHOP_AMQP_URL=proxied_amqp_url,
                                SHOP_LOCAL_SCHEDULE_SECONDS=RELAY_EVERY)
    return ShopClient.to(handle.url)


@pytest.fixture(scope="package")
def ordering(events_stack: ThrowawayStack, users: ShopClient, topology: None,
             proxied_amqp_url: str) -> OrderingStack:
    """Product and order services on the events stack, publishing through the proxy."""
    missing = order_publishing_missing()
    if missing:
        pytest.skip(missing)
    events_stack.start("order", SHOP_AMQP_URL=proxied_amqp_url,
                       SHOP_LOCAL_SCHEDULE_SECONDS=RELAY_EVERY)
    products = events_stack.start("product", SHOP_AMQP_URL=proxied_amqp_url,
                                  SHOP_LOCAL_SCHEDULE_SECONDS=RELAY_EVERY)
    return OrderingStack(events_stack, ShopClient.to(products.url))
