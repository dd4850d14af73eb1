"""The events path of a throw-away stack (mapping file, topology, SMTP sink, MQ emulator),
shared by the integration packages that need emails or communication invocations.

A package that uses these provides a package-scoped `mq_stack`: the throw-away stack
they serve. Each fixture here depends on it, so pytest tears them down with that
package's stack: the processes live exactly as long as the package that asked for
them, even though they are defined once, here. `emulator_amqp_url` is the broker
address the emulator uses (a package that puts a proxy in between overrides it).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shop_common.messaging import declare_topology_at
from shop_local.mappings import load_mapping_file
from shop_local.paths import ROOT
from shop_local.probes import port_open
from tests.integration.events.support import (
    EmulatorProcess,
    MailSink,
    start_emulator,
    wait_until,
    write_mappings,
)
from tests.support.stack import ThrowawayStack, free_port


@pytest.fixture(scope="package")
def emulator_amqp_url(mq_stack: ThrowawayStack) -> str:
    """The communication mappings' own broker user: it may read their queues only."""
    return mq_stack.amqp_url("communication")


@pytest.fixture(scope="package")
def mappings_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mappings(tmp_path_factory.mktemp("mappings") / "event-source-mappings.json")


@pytest.fixture(scope="package")
def topology(mq_stack: ThrowawayStack, mappings_file: Path) -> None:
    """The queues of the mapping file, declared before anything publishes (as `shop up` does)."""
    amqp_url = mq_stack.admin_amqp_url
    declare_topology_at(amqp_url, load_mapping_file(mappings_file, amqp_url=amqp_url).queue_specs())


@pytest.fixture(scope="package")
def mail_sink(mq_stack: ThrowawayStack) -> Iterator[MailSink]:
    port = free_port()
    maildir = mq_stack.workdir / "mail"
    log_path = mq_stack.workdir / "smtp-sink.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "shop_local.runtime.smtp_sink", "--port", str(port),
         "--maildir", str(maildir)],
        env=mq_stack.process_env(), cwd=ROOT,
        stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
    )
    sink = MailSink(process, port, maildir)
    try:
        wait_until(lambda: port_open("127.0.0.1", port), 20, what="SMTP sink listening")
        yield sink
    finally:
        sink.stop()


@pytest.fixture(scope="package")
def emulator(mq_stack: ThrowawayStack, topology: None, mail_sink: MailSink,
             mappings_file: Path, emulator_amqp_url: str) -> Iterator[EmulatorProcess]:
    """The communication app's mappings, sending to the package's SMTP sink.

    With the communication metrics environment, as `shop up` gives every process that
    runs a service's code: its invocations land where that service's sidecar reads.
    """
    metrics_dir = mq_stack.metrics_env("communication")["PROMETHEUS_MULTIPROC_DIR"]
    process = start_emulator(mq_stack, "mq-emulator", mappings_file, "communication",
                             SHOP_COMMUNICATION_AMQP_URL=emulator_amqp_url,
                             SHOP_SMTP_PORT=str(mail_sink.port),
                             PROMETHEUS_MULTIPROC_DIR=metrics_dir)
    try:
        process.wait_consuming()
        yield process
    finally:
        process.stop()
