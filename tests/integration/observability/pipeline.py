"""Throw-away Pushgateway, Prometheus and metrics sidecars on free ports, for tests.

They run the same command lines `shop up` runs (from shop_local.stack.observability),
with 1 s push, scrape and evaluation intervals so the tests wait seconds, not minutes,
and behind the same basic auth: a password generated for the session, hashed into each
server's web config file, read by the sidecars and Prometheus from a password file.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import requests
from prometheus_client.parser import text_string_to_metric_families

from shop_local.metrics_auth import (
    MetricsCredentials,
    write_password_file,
    write_web_config,
)
from shop_local.stack import observability as obs
from tests.support.polling import wait_until as poll
from tests.support.stack import free_port

INTERVAL_SECONDS = 1.0
T = TypeVar("T")
CREDENTIALS = MetricsCredentials("shop-metrics", secrets.token_urlsafe(18))
AUTH = CREDENTIALS.requests_auth


def web_config(workdir: Path) -> Path:
    path = workdir / "web.yml"
    write_web_config(path, CREDENTIALS)
    return path


def password_file(workdir: Path) -> Path:
    path = workdir / "metrics.password"
    write_password_file(path, CREDENTIALS)
    return path


@dataclass
class Managed:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, kill: bool = False) -> None:
        if self.process.poll() is not None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


@dataclass
class Pushgateway:
    workdir: Path
    port: int = field(default_factory=free_port)
    handle: Managed | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.handle = launch("pushgateway", obs.pushgateway_command(
            f"127.0.0.1:{self.port}", web_config(self.workdir)), self.workdir)
        poll(lambda: healthy(self.url + "/-/healthy"), 20, what="Pushgateway ready")

    def stop(self) -> None:
        if self.handle:
            self.handle.stop()

    def families(self) -> dict[str, Any]:
        text = requests.get(self.url + "/metrics", timeout=5, auth=AUTH).text
        return {family.name: family for family in text_string_to_metric_families(text)}

    def samples(self, name: str, **labels: str) -> list[Any]:
        """Samples of a metric (by sample name) whose labels include `labels`."""
        found = []
        for family in self.families().values():
            for sample in family.samples:
                if sample.name == name and labels.items() <= sample.labels.items():
                    found.append(sample)
        return found

    def total(self, name: str, **labels: str) -> float:
        return float(sum(s.value for s in self.samples(name, **labels)))


@dataclass
class Prometheus:
    workdir: Path
    pushgateway: Pushgateway
    rabbitmq_exporter: str
    port: int = field(default_factory=free_port)
    handle: Managed | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = self.workdir / "prometheus.yml"
        config.write_text(obs.render_prometheus_config(
            pushgateway=f"127.0.0.1:{self.pushgateway.port}",
            prometheus=f"127.0.0.1:{self.port}",
            rabbitmq_exporter=self.rabbitmq_exporter,
            interval_seconds=INTERVAL_SECONDS,
            basic_auth=(CREDENTIALS.user, password_file(self.workdir)),
        ))
        self.handle = launch("prometheus", obs.prometheus_command(
            config, self.workdir / "data", f"127.0.0.1:{self.port}", web_config(self.workdir)),
            self.workdir)
        poll(lambda: healthy(self.url + "/-/ready"), 60, what="Prometheus ready")

    def stop(self) -> None:
        if self.handle:
            self.handle.stop()

    def query(self, expr: str) -> list[dict[str, Any]]:
        response = requests.get(self.url + "/api/v1/query", params={"query": expr}, timeout=5,
                                auth=AUTH)
        response.raise_for_status()
        return list(response.json()["data"]["result"])

    def value(self, expr: str) -> float | None:
        """The single value of an instant query, or None when it returns nothing."""
        result = self.query(expr)
        assert len(result) <= 1, f"{expr} returned {len(result)} series"
        return float(result[0]["value"][1]) if result else None

    def firing_alerts(self) -> list[dict[str, Any]]:
        response = requests.get(self.url + "/api/v1/alerts", timeout=5, auth=AUTH)
        return [a for a in response.json()["data"]["alerts"] if a["state"] == "firing"]

    def targets(self) -> list[dict[str, Any]]:
        response = requests.get(self.url + "/api/v1/targets", timeout=5, auth=AUTH)
        return list(response.json()["data"]["activeTargets"])


@dataclass
class Sidecars:
    workdir: Path
    gateway_url: str
    instance: str
    handles: dict[str, Managed] = field(default_factory=dict)

    def start(self, service: str, directory: Path) -> Managed:
        directory.mkdir(parents=True, exist_ok=True)
        handle = launch(f"{service}-metrics", obs.sidecar_command(
            service, directory, self.gateway_url, INTERVAL_SECONDS, self.instance,
            user=CREDENTIALS.user, password_file=password_file(self.workdir)), self.workdir)
        self.handles[service] = handle
        return handle

    def stop_all(self) -> None:
        for handle in self.handles.values():
            handle.stop()


def launch(name: str, command: list[str], workdir: Path) -> Managed:
    log_path = workdir / f"{name}-{time.monotonic_ns()}.log"
    process = subprocess.Popen(command, cwd=workdir, stdout=log_path.open("wb"),
                               stderr=subprocess.STDOUT)
    return Managed(name, process, log_path)


def healthy(url: str) -> bool:
    try:
        return requests.get(url, timeout=2, auth=AUTH).status_code == 200
    except requests.RequestException:
        return False
