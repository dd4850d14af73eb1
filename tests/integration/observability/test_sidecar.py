"""The metrics sidecar against a real Pushgateway, fed by real processes writing metric files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.observability.pipeline import Managed, Pushgateway, Sidecars, poll

pytestmark = pytest.mark.integration

SERVICE = "sidecartest"

# A stand-in for a service process: records `count` requests and a backlog, then
# stays alive (as a service does) until it is stopped.
STUB = textwrap.dedent("""
    import sys, time
    from shop_common import metrics
    metrics.announce_process("{service}")
    for _ in range(int(sys.argv[1])):
        metrics.http_request("{service}", "/things/{{id}}", "GET", 200, 0.01)
    metrics.set_outbox_pending("{service}", 2, 5.0)
    print("ready", flush=True)
    time.sleep(600)
""").format(service=SERVICE)


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Pushgateway]:
    pushgateway = Pushgateway(tmp_path)
    pushgateway.start()
    yield pushgateway
    pushgateway.stop()


def start_stub(directory: Path, count: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    stub = subprocess.Popen([sys.executable, "-c", STUB, str(count)], env=env,
                            stdout=subprocess.PIPE, text=True)
    assert stub.stdout is not None and stub.stdout.readline().strip() == "ready"
    return stub


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(10)


def requests_pushed(gateway: Pushgateway) -> float:
    return gateway.total("http_requests_total", job=SERVICE)


def groups(gateway: Pushgateway) -> list[dict[str, str]]:
    return [dict(s.labels) for s in gateway.samples("push_time_seconds", job=SERVICE)]


def test_counters_stay_cumulative_across_pusher_and_service_restarts(
        tmp_path: Path, gateway: Pushgateway) -> None:
    directory = tmp_path / "metrics"
    sidecars = Sidecars(tmp_path, gateway.url, instance="box-1")
    first = start_stub(directory, 5)
    stubs = [first]
    try:
        sidecar = sidecars.start(SERVICE, directory)
        poll(lambda: requests_pushed(gateway) == 5, 10, what="first push")
        assert groups(gateway) == [{"job": SERVICE, "instance": "box-1"}]
        assert gateway.total("outbox_pending", job=SERVICE) == 2

        # A crashed pusher, started again: the same group, the same totals.
        sidecar.stop(kill=True)
        pushed_at = gateway.total("push_time_seconds", job=SERVICE)
        sidecars.start(SERVICE, directory)
        poll(lambda: gateway.total("push_time_seconds", job=SERVICE) > pushed_at, 10,
             what="push after the pusher restarted")
        assert requests_pushed(gateway) == 5
        assert len(groups(gateway)) == 1

        # The service restarts: the dead process's counts stay, its live gauges go.
        stop(first)
        second = start_stub(directory, 2)
        stubs.append(second)
        poll(lambda: requests_pushed(gateway) == 7, 10, what="totals across service restarts")
        assert gateway.total("shop_process_up", job=SERVICE) == 1
    finally:
        for stub in stubs:
            if stub.poll() is None:
                stop(stub)
        sidecars.stop_all()


def test_pushes_pause_while_no_service_process_runs(tmp_path: Path, gateway: Pushgateway) -> None:
    directory = tmp_path / "metrics"
    sidecars = Sidecars(tmp_path, gateway.url, instance="box-2")
    stub = start_stub(directory, 1)
    try:
        sidecar = sidecars.start(SERVICE, directory)
        poll(lambda: requests_pushed(gateway) == 1, 10, what="first push")
        stop(stub)
        poll(lambda: "pausing pushes" in sidecar.log(), 10, what="sidecar noticed")
        paused_at = gateway.total("push_time_seconds", job=SERVICE)
        time.sleep(3)  # three intervals without a push: Prometheus sees the push age grow
        assert gateway.total("push_time_seconds", job=SERVICE) == paused_at
        assert not list(directory.glob("gauge_live*")), "a dead process's live gauges remain"
    finally:
        if stub.poll() is None:
            stop(stub)
        sidecars.stop_all()


def test_a_clean_shutdown_deletes_the_group(tmp_path: Path, gateway: Pushgateway) -> None:
    directory = tmp_path / "metrics"
    sidecars = Sidecars(tmp_path, gateway.url, instance="box-3")
    stub = start_stub(directory, 3)
    try:
        sidecar: Managed = sidecars.start(SERVICE, directory)
        poll(lambda: requests_pushed(gateway) == 3, 10, what="first push")
        sidecar.stop()  # SIGTERM, as supervisord sends
        assert sidecar.process.returncode == 0, sidecar.log()
        assert groups(gateway) == []
    finally:
        stop(stub)
        sidecars.stop_all()


def test_a_crashed_instances_group_is_gone_when_the_gateway_starts_again(
        tmp_path: Path, gateway: Pushgateway) -> None:
    directory = tmp_path / "metrics"
    sidecars = Sidecars(tmp_path, gateway.url, instance="box-4")
    stub = start_stub(directory, 1)
    try:
        sidecar = sidecars.start(SERVICE, directory)
        poll(lambda: requests_pushed(gateway) == 1, 10, what="first push")
        sidecar.stop(kill=True)  # a crash: nobody deletes the group
        assert len(groups(gateway)) == 1

        gateway.stop()  # the next start of the stack starts the Pushgateway again
        gateway.start()
        assert groups(gateway) == []
    finally:
        stop(stub)
        sidecars.stop_all()
