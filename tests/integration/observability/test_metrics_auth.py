"""The Pushgateway and Prometheus refuse anyone without the metrics password.

The attack this closes: a group pushed under `job="user"` by anyone on the machine
kept `job:shop_service_up` at 1 for a dead service.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.exposition import push_to_gateway

from shop_local.metrics_auth import MetricsCredentials
from shop_local.stack import observability as obs
from tests.integration.observability.pipeline import CREDENTIALS, Prometheus, Pushgateway

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pushgateway]:
    pushgateway = Pushgateway(Path(tmp_path_factory.mktemp("auth-gateway")))
    pushgateway.start()
    yield pushgateway
    pushgateway.stop()


def fake_health() -> CollectorRegistry:
    registry = CollectorRegistry()
    Gauge("shop_process_up", "a forged heartbeat", registry=registry).set(1)
    return registry


def forged_groups(gateway: Pushgateway) -> list[dict[str, str]]:
    return [dict(s.labels) for s in gateway.samples("push_time_seconds", job="user")
            if s.labels.get("instance") == "forged"]


def test_an_unauthenticated_push_gets_401(gateway: Pushgateway) -> None:
    with pytest.raises(OSError, match="401"):
        push_to_gateway(gateway.url, job="user", registry=fake_health(),
                        grouping_key={"instance": "forged"}, timeout=5)
    response = requests.put(f"{gateway.url}/metrics/job/user/instance/forged",
                            data="shop_process_up 1\n", timeout=5)
    assert response.status_code == 401
    assert forged_groups(gateway) == []


def test_a_push_with_a_wrong_password_gets_401(gateway: Pushgateway) -> None:
    wrong = MetricsCredentials(CREDENTIALS.user, CREDENTIALS.password + "x")
    with pytest.raises(OSError, match="401"):
        push_to_gateway(gateway.url, job="user", registry=fake_health(),
                        grouping_key={"instance": "forged"}, timeout=5,
                        handler=wrong.push_handler())
    assert forged_groups(gateway) == []


def test_the_password_pushes_and_reads(gateway: Pushgateway) -> None:
    push_to_gateway(gateway.url, job="authcheck", registry=fake_health(), timeout=5,
                    handler=CREDENTIALS.push_handler())
    assert gateway.total("shop_process_up", job="authcheck") == 1
    assert requests.get(gateway.url + "/metrics", timeout=5).status_code == 401


def test_prometheus_refuses_queries_without_the_password(tmp_path: Path,
                                                         gateway: Pushgateway) -> None:
    prometheus = Prometheus(tmp_path, gateway, f"127.0.0.1:{obs.RABBITMQ_PROMETHEUS_PORT}")
    prometheus.start()
    try:
        assert requests.get(prometheus.url + "/api/v1/query", params={"query": "up"},
                            timeout=5).status_code == 401
        assert prometheus.query('up{job="pushgateway"}') is not None  # with the password
    finally:
        prometheus.stop()


def test_shop_up_runs_both_servers_behind_the_password_and_never_shows_it(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {"SHOP_METRICS_USER": "shop-metrics", "SHOP_METRICS_PASSWORD": "not-on-any-line-42"}
    monkeypatch.setattr(obs, "PROMETHEUS_VAR", tmp_path)
    programs = {p.name: p.command for p in obs.programs(env)}
    for server in ("pushgateway", "prometheus"):
        assert any(arg.startswith("--web.config.file=") for arg in programs[server])
    sidecars = [name for name in programs if name.endswith("-metrics")]
    assert sidecars
    for name in sidecars:
        assert "--password-file" in programs[name]
    assert not any("not-on-any-line-42" in " ".join(c) for c in programs.values())


def test_the_web_config_and_password_file_are_private(tmp_path: Path) -> None:
    from shop_local.metrics_auth import write_password_file, write_web_config

    web, secret = tmp_path / "web.yml", tmp_path / "metrics.password"
    write_web_config(web, CREDENTIALS)
    write_password_file(secret, CREDENTIALS)
    for path in (web, secret):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert CREDENTIALS.password not in web.read_text()  # a bcrypt hash only
    assert web.read_text().count("$2b$") == 1
    before = web.read_text()
    write_web_config(web, CREDENTIALS)
    assert web.read_text() == before  # kept when the password did not change
