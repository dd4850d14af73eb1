"""End to end: service processes → metric files → sidecars → Pushgateway → Prometheus.

Real service processes of the throw-away stack, real sidecars, a real Pushgateway
and a real Prometheus (shipped rules and dashboard) on free ports, with 1 s
intervals. Covers every service of the shop: the three HTTP services and the
communication functions, invoked by the MQ emulator from real user.signed_up events.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from shop_local.apps import service_exists
from shop_local.probes import port_open
from shop_local.stack import observability as obs
from tests.integration.events.support import EmulatorProcess, MailSink, wait_until
from tests.integration.observability.pipeline import (
    AUTH,
    CREDENTIALS,
    INTERVAL_SECONDS,
    Prometheus,
    Pushgateway,
    Sidecars,
    poll,
)
from tests.support.client import ShopClient, register
from tests.support.stack import ServiceProcess, ThrowawayStack

pytestmark = pytest.mark.integration

SERVICES = ("user", "product", "order", "communication")
HTTP_SERVICES = ("user", "product", "order")
# The promise: a request is visible within one push, one scrape and a second.
VISIBLE_WITHIN = INTERVAL_SECONDS + INTERVAL_SECONDS + 1.0
# Push age limit of the shipped rules + one push, one evaluation, and slack for a busy box.
DOWN_WITHIN = 30 + 3 * INTERVAL_SECONDS + 10
SCRAPE_JOBS = {"pushgateway", "rabbitmq", "rabbitmq-queues", "prometheus"}


@dataclass
class Observed:
    stack: ThrowawayStack
    prometheus: Prometheus
    gateway: Pushgateway
    sidecars: Sidecars
    users: ShopClient
    mail_sink: MailSink
    services: tuple[str, ...] = SERVICES
    http_services: tuple[str, ...] = HTTP_SERVICES


def running(stack: ThrowawayStack, service: str) -> ServiceProcess:
    for handle in reversed(stack.processes):
        if handle.service == service and handle.process.poll() is None:
            return handle
    return stack.start(service)


@pytest.fixture(scope="module")
def observed(stack: ThrowawayStack, user_service: ShopClient, emulator: EmulatorProcess,
             mail_sink: MailSink, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    # Every service is required: a missing app is a failure here, never a skip.
    missing = [s for s in SERVICES if not service_exists(s)]
    assert not missing, f"no function app for {missing}"
    if not port_open("127.0.0.1", obs.RABBITMQ_PROMETHEUS_PORT):
        obs.ensure_rabbitmq_exporter()  # what `shop setup` does
    workdir = Path(tmp_path_factory.mktemp("observability"))
    gateway = Pushgateway(workdir)
    prometheus = Prometheus(workdir, gateway, f"127.0.0.1:{obs.RABBITMQ_PROMETHEUS_PORT}")
    sidecars = Sidecars(workdir, gateway.url, instance=f"test-{stack.run_id}")
    try:
        gateway.start()
        prometheus.start()
        for service in SERVICES:
            sidecars.start(service, stack.metrics_dir(service))
        for service in HTTP_SERVICES:
            running(stack, service)
        # The communication service's process is the emulator (started above, with the
        # communication metrics environment): as in `shop up`, it has no HTTP host.
        yield Observed(stack, prometheus, gateway, sidecars, user_service, mail_sink)
    finally:
        sidecars.stop_all()
        prometheus.stop()
        gateway.stop()


def pushed_and_scraped(observed: Observed, services: tuple[str, ...]) -> bool:
    jobs = {r["metric"]["job"] for r in observed.prometheus.query("push_time_seconds")}
    return set(services) <= jobs


def test_requests_reach_prometheus_within_a_push_and_a_scrape(observed: Observed) -> None:
    services = observed.http_services
    poll(lambda: pushed_and_scraped(observed, services), 30, what="first pushes scraped")

    def count(service: str) -> float:
        return observed.prometheus.value(f'sum(http_requests_total{{job="{service}"}})') or 0.0

    before = {service: count(service) for service in services}
    for service in services:
        client = ShopClient.to(running(observed.stack, service).url)
        for _ in range(3):
            assert client.call("GET", "/health").status_code == 200

    started = time.monotonic()
    poll(lambda: all(count(s) >= before[s] + 3 for s in services), VISIBLE_WITHIN,
         interval=0.1, what=f"http_requests_total of {services} in Prometheus")
    assert time.monotonic() - started <= VISIBLE_WITHIN + 0.5
    assert all(count(s) > 0 for s in services)


def test_route_labels_are_templates(observed: Observed) -> None:
    routes = {r["metric"]["route"] for r in observed.prometheus.query(
        'count by (route) (http_requests_total{job="user"})')}
    assert "/health" in routes


# A process that runs a scheduled function of an app named shop-communication
# through the local Lambda service and EventBridge schedules, writing to the
# communication metrics directory: the path every scheduled function takes,
# whatever its service.
SCHEDULED_APP = textwrap.dedent("""
    from chalice.app import Chalice, Rate

    app = Chalice(app_name="shop-communication")

    @app.schedule(Rate(1, unit=Rate.MINUTES))
    def deliver(event):
        print("invoked", flush=True)
""")
SCHEDULED_STAND_IN = textwrap.dedent("""
    import asyncio, sys
    from pathlib import Path
    from shop_local.runtime.catalog import load_catalog
    from shop_local.runtime.lambda_service import LambdaService
    from shop_local.runtime.schedules import EventBridgeSchedules

    async def main():
        catalog = load_catalog(Path(sys.argv[1]))
        service = LambdaService([catalog], echo=sys.stdout.buffer)
        await service.start()
        EventBridgeSchedules([catalog], service, override=0.2).start()
        await asyncio.sleep(600)

    asyncio.run(main())
""")


def test_scheduled_invocations_reach_prometheus(observed: Observed) -> None:
    project = observed.stack.workdir / "scheduled-stand-in"
    (project / ".chalice").mkdir(parents=True, exist_ok=True)
    (project / "app.py").write_text(SCHEDULED_APP)
    (project / ".chalice" / "config.json").write_text(
        '{"version": "2.0", "app_name": "shop-communication", "stages": {"dev": {}}}')
    env = {**os.environ, **observed.stack.metrics_env("communication"),
           "SHOP_LAMBDA_LOG_DIR": str(project / "logs")}
    log_path = observed.stack.workdir / "scheduled-stand-in.log"
    stand_in = subprocess.Popen([sys.executable, "-c", SCHEDULED_STAND_IN, str(project)],
                                env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
    try:
        poll(lambda: "invoked" in log_path.read_text(), 15, what="a scheduled invocation")
        poll(lambda: (observed.prometheus.value(
            'sum(invocations_total{job="communication", function="deliver", '
            'outcome="success"})') or 0) > 0,
            VISIBLE_WITHIN, interval=0.1, what="invocations_total of communication")
    finally:
        stand_in.terminate()
        stand_in.wait(10)


SIGNUP_INVOCATIONS = ('sum(invocations_total{job="communication", function="signup_email", '
                      'outcome="success"})')


def test_communication_invocations_reach_prometheus(observed: Observed) -> None:
    """A real sign-up: user service → outbox → RabbitMQ → emulator → signup_email → SMTP."""
    poll(lambda: pushed_and_scraped(observed, ("communication",)), 30,
         what="the communication sidecar's first push scraped")
    before = observed.prometheus.value(SIGNUP_INVOCATIONS) or 0.0
    email = register(observed.users)["email"]
    # The counter goes up as the invocation returns, right after the email lands; the
    # broker and batching window are not what is timed here, push and scrape are.
    wait_until(lambda: observed.mail_sink.messages_to(email), 30, what="welcome email")
    started = time.monotonic()
    poll(lambda: (observed.prometheus.value(SIGNUP_INVOCATIONS) or 0.0) > before,
         VISIBLE_WITHIN, interval=0.1, what="signup_email invocations_total in Prometheus")
    assert time.monotonic() - started <= VISIBLE_WITHIN + 0.5
    assert observed.prometheus.value(
        'sum(invocations_total{job="communication", function="signup_email", '
        'outcome!="success"})') in (None, 0.0)


def test_every_scrape_target_is_up(observed: Observed) -> None:
    def all_up() -> bool:
        targets = observed.prometheus.targets()
        return ({t["labels"]["job"] for t in targets} == SCRAPE_JOBS
                and all(t["health"] == "up" for t in targets))

    poll(all_up, 15, what="every scrape target up")
    # Debian's build serves the classic UI under /classic; upstream's React UI at /targets.
    pages = [requests.get(observed.prometheus.url + path, timeout=5, auth=AUTH)
             for path in ("/classic/targets", "/targets")]
    page = next((p for p in pages if p.status_code == 200), None)
    assert page is not None, "no Targets page"
    if "/classic/" in page.url:  # rendered on the server: the jobs are in the HTML
        for job in SCRAPE_JOBS:
            assert f"{job} (1/1 up)" in page.text


def wait_until_up(observed: Observed, services: Sequence[str], timeout: float = 15) -> None:
    def up(service: str) -> bool:
        return observed.prometheus.value(f'job:shop_service_up{{job="{service}"}}') == 1

    poll(lambda: all(up(s) for s in services), timeout, what=f"{services} up per Prometheus")


def test_dashboard_shows_every_service(observed: Observed) -> None:
    wait_until_up(observed, observed.http_services)
    page = requests.get(observed.prometheus.url + "/consoles/shop.html", timeout=10, auth=AUTH)
    assert page.status_code == 200, page.text
    for service in SERVICES:
        assert f">{service}</a>" in page.text
    assert page.text.count('class="up">up<') >= len(observed.http_services)
    assert "error executing template" not in page.text


def test_status_shows_each_service_as_prometheus_sees_it(observed: Observed) -> None:
    wait_until_up(observed, observed.http_services)
    env = {"SHOP_PUSHGATEWAY_URL": observed.gateway.url,
           "SHOP_PROMETHEUS_URL": observed.prometheus.url,
           "SHOP_METRICS_USER": CREDENTIALS.user, "SHOP_METRICS_PASSWORD": CREDENTIALS.password}
    rows = {c.name: c.check() for c in obs.components(env)}
    assert rows["Pushgateway"] == "up" and rows["Prometheus"] == "up"
    for service in observed.http_services:
        assert rows[f"{service} per Prometheus"] == "up"


def test_a_stopped_service_goes_down_and_fires_the_alert(observed: Observed) -> None:
    """Runs last: it stops the user service for ~35 s, then starts it again."""
    wait_until_up(observed, ["user"])
    running(observed.stack, "user").stop()
    try:
        def alerted() -> bool:
            return any(a["labels"]["alertname"] == "ServiceNotPushing"
                       and a["labels"].get("job") == "user"
                       for a in observed.prometheus.firing_alerts())

        poll(lambda: observed.prometheus.value('job:shop_service_up{job="user"}') == 0,
             DOWN_WITHIN, interval=0.5, what="user's health series at 0")
        poll(alerted, 3 * INTERVAL_SECONDS + 5, interval=0.5, what="ServiceNotPushing firing")
        others = [s for s in observed.http_services if s != "user"]
        wait_until_up(observed, others, timeout=5)
    finally:
        running(observed.stack, "user")
    wait_until_up(observed, ["user"])


def test_prometheus_logs_that_it_is_ready(observed: Observed) -> None:
    # `shop logs prometheus` showed nothing at all while Prometheus logged only warnings.
    assert observed.prometheus.handle is not None
    assert "Server is ready to receive web requests" in observed.prometheus.handle.log()
