"""The shipped Prometheus files pass promtool: config, rules, and the rules' own unit tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from shop_local.paths import ROOT
from shop_local.stack import observability as obs

pytestmark = pytest.mark.integration

PROMETHEUS = ROOT / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60,
                            check=False, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_shipped_config_is_valid() -> None:
    result = promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert "3 rule files found" in result.stdout


def test_shipped_rules_are_valid() -> None:
    rule_files = sorted(str(p) for p in (PROMETHEUS / "rules").glob("*.yml"))
    assert len(rule_files) == 3
    promtool("check", "rules", *rule_files)


def test_alerts_fire_as_their_unit_tests_say() -> None:
    promtool("test", "rules", *sorted(str(p) for p in (PROMETHEUS / "tests").glob("*.yml")))


def test_rendered_config_is_valid_and_points_at_the_given_addresses(tmp_path: Path) -> None:
    password_file = tmp_path / "metrics.password"
    password_file.write_text("scrape-secret")
    rendered = obs.render_prometheus_config(
        pushgateway="127.0.0.1:19091", prometheus="127.0.0.1:19090",
        rabbitmq_exporter="127.0.0.1:15692", interval_seconds=1,
        basic_auth=("shop-metrics", password_file),
    )
    assert "scrape-secret" not in rendered  # the config names the file, never the password
    path = tmp_path / "prometheus.yml"
    path.write_text(rendered)
    promtool("check", "config", str(path))

    config = yaml.safe_load(rendered)
    targets = {job["job_name"]: job["static_configs"][0]["targets"]
               for job in config["scrape_configs"]}
    assert targets == {
        "pushgateway": ["127.0.0.1:19091"], "prometheus": ["127.0.0.1:19090"],
        "rabbitmq": ["127.0.0.1:15692"], "rabbitmq-queues": ["127.0.0.1:15692"],
    }
    pushgateway = next(j for j in config["scrape_configs"] if j["job_name"] == "pushgateway")
    assert pushgateway["honor_labels"] is True
    logins = {job["job_name"]: job.get("basic_auth") for job in config["scrape_configs"]}
    expected = {"username": "shop-metrics", "password_file": str(password_file)}
    assert logins == {"pushgateway": expected, "prometheus": expected,
                      "rabbitmq": None, "rabbitmq-queues": None}
    assert config["global"]["scrape_interval"] == "1000ms"
