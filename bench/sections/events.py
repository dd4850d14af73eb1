"""Events: order -> invoice email latency at a steady rate; request -> metric in Prometheus.

Invoice latency: orders placed at a steady rate through the product service; each
order's invoice is found in the SMTP sink's Maildir by the order id in its subject,
and timed from the order's 201 to the mail file's write. The path: order committed
with its outbox row -> published after commit -> RabbitMQ -> the MQ event-source
emulator (batching window of the mapping file's local profile, stated in the row)
-> the communication function -> SMTP.

Metric freshness: the tests' own Pushgateway, Prometheus and product sidecar on free
ports, with 1 s push, scrape and evaluation intervals (the live stack pushes every
5 s); one `GET /health`, then Prometheus' query API polled until the counter moved.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import requests

from bench.context import Context
from bench.loadgen import percentile
from bench.report import Row, median
from shop_local.mappings import load_mapping_file
from shop_local.paths import ROOT
from shop_local.probes import port_open
from shop_local.stack import observability as obs
from tests.integration.events.support import start_emulator, write_mappings
from tests.integration.observability.pipeline import (
    INTERVAL_SECONDS,
    Prometheus,
    Pushgateway,
    Sidecars,
)
from tests.support.polling import wait_until
from tests.support.stack import free_port

SECTION = "events"
ORDERS_PER_SECOND = 5.0
MAIL_TIMEOUT_SECONDS = 60
FRESHNESS_SAMPLES = 3  # per round
FRESHNESS_TIMEOUT_SECONDS = 30


def invoice_latency(ctx: Context) -> list[Row]:
    stack = ctx.stack
    workdir = stack.workdir
    mappings = write_mappings(workdir / "event-source-mappings.json")
    invoice = next(m for m in load_mapping_file(mappings).mappings if m.function == "order_invoice")
    maildir = workdir / "mail"
    smtp_port = free_port()
    sink_log = (workdir / "smtp-sink.log").open("wb")
    sink = subprocess.Popen(
        [sys.executable, "-m", "shop_local.runtime.smtp_sink", "--port", str(smtp_port),
         "--maildir", str(maildir)], env=stack.stack.process_env(), cwd=ROOT,
        stdout=sink_log, stderr=subprocess.STDOUT)
    emulator = None
    try:
        wait_until(lambda: port_open("127.0.0.1", smtp_port), 20, what="SMTP sink listening")
        emulator = start_emulator(stack.stack, "mq-emulator", mappings, "communication",
                                  SHOP_SMTP_PORT=str(smtp_port),
                                  **stack.stack.metrics_env("communication"))
        emulator.wait_consuming(60)
        buyer = stack.shop.new_buyers(1)[0]
        product_id = stack.new_product(1_000_000)
        count = max(5, round(ctx.seconds * ORDERS_PER_SECOND))
        p50s, every = [], []
        for _ in range(ctx.rounds):
            round_placed: dict[str, float] = {}
            started = time.monotonic()
            for index in range(count):
                time.sleep(max(0.0, started + index / ORDERS_PER_SECOND - time.monotonic()))
                order = stack.place_order(stack.url("product"), product_id, buyer)
                round_placed[str(order["id"])] = time.time()
            arrived = wait_for_invoices(maildir, set(round_placed))
            latencies = sorted(arrived[i] - round_placed[i] for i in round_placed)
            p50s.append(percentile(latencies, 0.5))
            every += latencies
    finally:
        if emulator is not None:
            emulator.stop()
        sink.terminate()
        sink.wait(15)
        sink_log.close()
    every.sort()
    window = invoice.maximum_batching_window_seconds
    return [Row(SECTION, f"order -> invoice email at {ORDERS_PER_SECOND:g} orders/s "
                         f"(batching window {window:g} s, batch {invoice.batch_size})",
                1000 * median(p50s), "ms", p50_ms=1000 * percentile(every, 0.5),
                p99_ms=1000 * percentile(every, 0.99), note=f"{len(every)} orders",
                samples=[round(1000 * x, 1) for x in p50s])]


def wait_for_invoices(maildir: Path, order_ids: set[str]) -> dict[str, float]:
    """When each order's invoice was written, by the mail file's modification time."""
    found: dict[str, float] = {}
    deadline = time.monotonic() + MAIL_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for folder in ("new", "cur"):
            directory = maildir / folder
            if not directory.is_dir():
                continue
            for path in directory.iterdir():
                subject = subject_of(path)
                for order_id in order_ids - found.keys():
                    if order_id in subject:
                        found[order_id] = path.stat().st_mtime
        if found.keys() >= order_ids:
            return found
        time.sleep(0.1)
    missing = len(order_ids - found.keys())
    raise RuntimeError(f"{missing} invoice(s) did not arrive within {MAIL_TIMEOUT_SECONDS} s")


def subject_of(path: Path) -> str:
    with path.open("rb") as handle:
        for raw in handle:
            line = raw.decode(errors="replace")
            if line.lower().startswith("subject:"):
                return line
            if not line.strip():
                break
    return ""


def metric_freshness(ctx: Context) -> list[Row]:
    stack = ctx.stack
    product = stack.service("product")
    workdir = stack.workdir / "observability"
    workdir.mkdir(exist_ok=True)
    obs.ensure_rabbitmq_exporter(lambda _message: None)
    gateway = Pushgateway(workdir)
    prometheus = Prometheus(workdir, gateway, f"127.0.0.1:{obs.RABBITMQ_PROMETHEUS_PORT}")
    sidecars = Sidecars(workdir, gateway.url, instance=f"bench-{stack.stack.run_id}")
    query = 'sum(http_requests_total{job="product",route="/health"})'
    samples: list[float] = []
    try:
        gateway.start()
        prometheus.start()
        sidecars.start("product", stack.stack.metrics_dir("product"))
        wait_until(lambda: prometheus.value(query) is not None, FRESHNESS_TIMEOUT_SECONDS,
                   interval=0.2, what="the product's requests in Prometheus")
        for _ in range(ctx.rounds * FRESHNESS_SAMPLES):
            before = prometheus.value(query) or 0.0
            sent = time.monotonic()
            requests.get(product.url + "/health", timeout=10).raise_for_status()
            wait_until(lambda before=before: (prometheus.value(query) or 0.0) > before,
                       FRESHNESS_TIMEOUT_SECONDS, interval=0.05, what="the request counted")
            samples.append(time.monotonic() - sent)
    finally:
        sidecars.stop_all()
        prometheus.stop()
        gateway.stop()
    ordered = sorted(samples)
    return [Row(SECTION, f"request -> visible in Prometheus' API (push and scrape every "
                         f"{INTERVAL_SECONDS:g} s)", median(samples), "s",
                p50_ms=1000 * percentile(ordered, 0.5), p99_ms=1000 * percentile(ordered, 0.99),
                note=f"{len(samples)} requests", samples=[round(x, 2) for x in samples])]


def run(ctx: Context) -> list[Row]:
    return invoice_latency(ctx) + metric_freshness(ctx)
