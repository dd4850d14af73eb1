"""The metric helpers, in process against prometheus_client's default registry (no files)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chalice.app import Chalice
from chalice.test import Client
from prometheus_client import REGISTRY

from shop_common import metrics
from shop_common.web import install_http_middleware
from shop_local.runtime.metrics_sidecar import pid_of


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_can_name_the_service_of_an_app() -> None:
    assert metrics.service_of_app("shop-user") == "user"
    assert metrics.service_of_app("shop-communication") == "communication"
    assert metrics.service_of_app("other") == "other"


def test_can_count_an_invocation_and_its_outcome() -> None:
    labels = {"service": "unit", "function": "sweep"}
    ok, failed = (sample("invocations_total", **labels, outcome=o) for o in ("success", "error"))
    timed = sample("invocation_duration_seconds_count", **labels)

    with metrics.observe_invocation("unit", "sweep"):
        pass
    with pytest.raises(ValueError), metrics.observe_invocation("unit", "sweep"):
        raise ValueError("boom")

    assert sample("invocations_total", **labels, outcome="success") == ok + 1
    assert sample("invocations_total", **labels, outcome="error") == failed + 1
    assert sample("invocation_duration_seconds_count", **labels) == timed + 2


def test_nested_observers_of_the_same_function_count_once() -> None:
    labels = {"service": "unit", "function": "relay", "outcome": "success"}
    before = sample("invocations_total", **labels)

    @metrics.observed("unit")
    def relay(event: dict[str, str], context: object) -> str:
        return "done"

    # The local schedule runner wraps a function that also counts itself.
    with metrics.observe_invocation("unit", "relay"):
        assert relay({}, None) == "done"

    assert sample("invocations_total", **labels) == before + 1
    assert relay.__name__ == "relay"  # Chalice names the Lambda function after it


def test_different_functions_nested_are_each_counted() -> None:
    outer = {"service": "unit", "function": "outer", "outcome": "success"}
    inner = {"service": "unit", "function": "inner", "outcome": "success"}
    before_outer, before_inner = sample("invocations_total", **outer), sample(
        "invocations_total", **inner)

    with metrics.observe_invocation("unit", "outer"), metrics.observe_invocation("unit", "inner"):
        pass

    assert sample("invocations_total", **outer) == before_outer + 1
    assert sample("invocations_total", **inner) == before_inner + 1


def test_can_report_the_outbox_backlog_and_its_age() -> None:
    metrics.set_outbox_pending("unit", 4, 75.5)
    assert sample("outbox_pending", service="unit") == 4
    assert sample("outbox_oldest_pending_age_seconds", service="unit") == 75.5
    metrics.set_outbox_pending("unit", 0)
    assert sample("outbox_pending", service="unit") == 0
    assert sample("outbox_oldest_pending_age_seconds", service="unit") == 0


def test_announcing_a_process_marks_it_up() -> None:
    metrics.announce_process("unit-announced")
    metrics.announce_process("unit-announced")
    assert sample("shop_process_up", service="unit-announced") == 1


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    app = Chalice(app_name="shop-metricsunit")
    install_http_middleware(app)

    @app.route("/things/{thing_id}")
    def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @app.route("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with Client(app) as test_client:
        yield test_client


def test_every_app_counts_requests_by_route_template(client: Client) -> None:
    labels = {"service": "metricsunit", "route": "/things/{thing_id}", "method": "GET"}
    before = sample("http_requests_total", **labels, status="200")
    timed = sample("http_request_duration_seconds_count", **labels)

    for thing_id in ("a", "b", "c"):
        assert client.http.get(f"/things/{thing_id}").status_code == 200

    assert sample("http_requests_total", **labels, status="200") == before + 3
    assert sample("http_request_duration_seconds_count", **labels) == timed + 3
    # The raw path never becomes a label: ids would explode the series count.
    assert sample("http_requests_total", service="metricsunit", route="/things/a",
                  method="GET", status="200") == 0


def test_server_errors_are_counted_with_their_status(client: Client) -> None:
    labels = {"service": "metricsunit", "route": "/boom", "method": "GET", "status": "500"}
    before = sample("http_requests_total", **labels)
    assert client.http.get("/boom").status_code == 500
    assert sample("http_requests_total", **labels) == before + 1


@pytest.mark.parametrize(("name", "pid"), [
    ("counter_123.db", 123),
    ("histogram_9.db", 9),
    ("gauge_livemax_4567.db", 4567),
    ("gauge_all_88.db", 88),
    ("notes.txt", None),
    ("counter_abc.db", None),
])
def test_sidecar_reads_the_writer_pid_from_a_file_name(name: str, pid: int | None) -> None:
    assert pid_of(name) == pid


def test_each_app_counts_only_its_own_requests(client: Client) -> None:
    other = Chalice(app_name="shop-metricsother")
    install_http_middleware(other)

    @other.route("/things/{thing_id}")
    def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    labels = {"route": "/things/{thing_id}", "method": "GET", "status": "200"}
    before = sample("http_requests_total", service="metricsother", **labels)
    assert client.http.get("/things/z").status_code == 200
    assert sample("http_requests_total", service="metricsother", **labels) == before
