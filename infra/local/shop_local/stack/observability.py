"""The observability part of the local stack (sidecars, Pushgateway, Prometheus): `shop up` hooks.

Where things go:
- each service process writes prometheus_client multiprocess files into
  var/metrics/<service>/ (`metrics_environment` is the rule for every program that
  runs a service's code, HTTP host or MQ emulator alike);
- one sidecar per service pushes that directory to the Pushgateway;
- Prometheus scrapes the Pushgateway, RabbitMQ's exporter and itself, with the
  config rendered from prometheus/prometheus.yml into var/prometheus/;
- the Pushgateway and Prometheus take HTTP basic auth (shop_local.metrics_auth): their
  web config file and the password file the sidecars and Prometheus read are in
  var/prometheus/, mode 0600.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import yaml

from shop_common.config import SERVICES
from shop_common.metrics import MULTIPROC_DIR_VARIABLE
from shop_common.setting_values import check_each, seconds_setting, url_port_setting
from shop_local.apps import service_exists
from shop_local.metrics_auth import (
    MetricsCredentials,
    write_password_file,
    write_web_config,
)
from shop_local.paths import ROOT, VAR
from shop_local.probes import port_open, wait_for
from shop_local.stack import supervisor
from shop_local.stack.components import Component
from shop_local.stack.supervisor import Program

PROMETHEUS_SOURCE = ROOT / "prometheus"
METRICS_DIR = VAR / "metrics"
PROMETHEUS_VAR = VAR / "prometheus"
WEB_CONFIG = PROMETHEUS_VAR / "web.yml"
PASSWORD_FILE = PROMETHEUS_VAR / "metrics.password"
AUTHENTICATED_JOBS = ("pushgateway", "prometheus")
RABBITMQ_PROMETHEUS_PORT = 15692
DEFAULT_PUSHGATEWAY_URL = "http://127.0.0.1:9091"
DEFAULT_PROMETHEUS_URL = "http://127.0.0.1:9090"
DEFAULT_PUSH_SECONDS = 5.0


@dataclass(frozen=True)
class Addresses:
    """Where the observability stack listens, from `.env`: URLs without a trailing slash, the
    RabbitMQ exporter as host:port (the broker's host, port 15692), the sidecars' push
    interval in seconds.
    """
    pushgateway_url: str
    prometheus_url: str
    rabbitmq_exporter: str  # host:port of the rabbitmq_prometheus plugin
    push_seconds: float

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Addresses:
        """SHOP_PUSHGATEWAY_URL (http://127.0.0.1:9091), SHOP_PROMETHEUS_URL
        (http://127.0.0.1:9090), SHOP_AMQP_URL's host and SHOP_METRICS_PUSH_SECONDS (5),
        defaults in brackets. SettingsError, one line per setting, when the interval is not
        a number of seconds or a URL names no port number.
        """
        check_each(number_readers(env))
        amqp_host = urlsplit(env.get("SHOP_AMQP_URL", "amqp://127.0.0.1")).hostname
        return cls(
            pushgateway_url=_url(env, "SHOP_PUSHGATEWAY_URL", DEFAULT_PUSHGATEWAY_URL),
            prometheus_url=_url(env, "SHOP_PROMETHEUS_URL", DEFAULT_PROMETHEUS_URL),
            rabbitmq_exporter=f"{amqp_host or '127.0.0.1'}:{RABBITMQ_PROMETHEUS_PORT}",
            push_seconds=push_seconds(env),
        )


def _url(env: dict[str, str], name: str, default: str) -> str:
    return (env.get(name, "").strip() or default).rstrip("/")


def push_seconds(env: dict[str, str]) -> float:
    """How often the sidecars push: SHOP_METRICS_PUSH_SECONDS, else 5. SettingsError when it
    is not a number of seconds.
    """
    return seconds_setting(env, "SHOP_METRICS_PUSH_SECONDS", DEFAULT_PUSH_SECONDS)


def number_readers(env: dict[str, str]) -> list[Callable[[], object]]:
    """A reader of each number the observability takes from `.env`: the push interval and the
    Pushgateway's and Prometheus' ports (status.check_settings).
    """
    return [partial(push_seconds, env),
            partial(url_port_setting, env, "SHOP_PUSHGATEWAY_URL", DEFAULT_PUSHGATEWAY_URL),
            partial(url_port_setting, env, "SHOP_PROMETHEUS_URL", DEFAULT_PROMETHEUS_URL)]


def host_port(url: str) -> str:
    """`host:port` of a URL, as Prometheus and the Pushgateway take listen and target addresses
    (`http://127.0.0.1:9091` is `127.0.0.1:9091`).
    """
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


def observed_services() -> list[str]:
    """Every service whose function app exists gets a metrics directory and a sidecar."""
    return [s for s in SERVICES if service_exists(s)]


def metrics_dir(service: str, root: Path = METRICS_DIR) -> Path:
    """The folder a service's processes write their prometheus_client multiprocess files into:
    `<root>/<service>`.
    """
    return root / service


def metrics_environment(service: str, root: Path = METRICS_DIR) -> dict[str, str]:
    """The environment a process running `service`'s code needs from its start.

    prometheus_client reads the variable when it is imported, so it must be in the
    program's environment, not set later by the program itself.
    """
    return {MULTIPROC_DIR_VARIABLE: str(metrics_dir(service, root))}


# -- commands, shared by `shop up` and the tests so both run the same thing --------


def pushgateway_command(listen: str, web_config: Path | None = None) -> list[str]:
    # No persistence file: every start is empty, so a group left by an instance
    # that crashed (and never deleted it) is gone on the next start of the stack.
    """The Pushgateway's command line, listening on `listen` (host:port), without a persistence
    file, with basic auth when `web_config` names its web config file.
    """
    return ["prometheus-pushgateway", f"--web.listen-address={listen}", "--persistence.file=",
            "--log.level=info", *web_config_flag(web_config)]


def web_config_flag(web_config: Path | None) -> list[str]:
    """`--web.config.file=<path>` (Prometheus' exporter-toolkit web config: TLS and basic auth),
    or nothing without a file.
    """
    return [f"--web.config.file={web_config}"] if web_config else []


def prometheus_command(config: Path, storage: Path, listen: str,
                       web_config: Path | None = None) -> list[str]:
    """Prometheus' command line: `config` as its config file, `storage` as its TSDB folder (7
    days kept), listening on `listen` (host:port), serving the shop's dashboard consoles,
    with basic auth when `web_config` is given.
    """
    return [
        "prometheus", *web_config_flag(web_config),
        f"--config.file={config}",
        f"--storage.tsdb.path={storage}",
        "--storage.tsdb.retention.time=7d",
        f"--web.listen-address={listen}",
        f"--web.console.templates={PROMETHEUS_SOURCE / 'consoles'}",
        f"--web.console.libraries={PROMETHEUS_SOURCE / 'console_libraries'}",
        "--log.level=info",
    ]


def sidecar_command(service: str, directory: Path, gateway_url: str, interval: float,
                    instance: str | None = None, user: str | None = None,
                    password_file: Path | None = None) -> list[str]:
    """The sidecar's command line; the password stays in its file, never on the line."""
    command = [
        sys.executable, "-m", "shop_local.runtime.metrics_sidecar", "--service", service,
        "--dir", str(directory), "--gateway", gateway_url, "--interval", f"{interval:g}",
    ]
    command += ["--instance", instance] if instance else []
    if user and password_file:
        command += ["--user", user, "--password-file", str(password_file)]
    return command


def render_prometheus_config(
    *, pushgateway: str, prometheus: str, rabbitmq_exporter: str,
    rules_dir: Path = PROMETHEUS_SOURCE / "rules", interval_seconds: float | None = None,
    basic_auth: tuple[str, Path] | None = None,
) -> str:
    """prometheus/prometheus.yml with these host:port targets and absolute rule paths.

    `basic_auth` (user, password file) is how Prometheus logs in to the Pushgateway
    and to itself.
    """
    config: dict[str, Any] = yaml.safe_load((PROMETHEUS_SOURCE / "prometheus.yml").read_text())
    targets = {
        "pushgateway": pushgateway, "prometheus": prometheus,
        "rabbitmq": rabbitmq_exporter, "rabbitmq-queues": rabbitmq_exporter,
    }
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
        if basic_auth and job["job_name"] in AUTHENTICATED_JOBS:
            job["basic_auth"] = {"username": basic_auth[0], "password_file": str(basic_auth[1])}
    config["rule_files"] = [str(rules_dir / "*.yml")]
    if interval_seconds is not None:
        every = f"{int(interval_seconds * 1000)}ms"
        config["global"].update(scrape_interval=every, scrape_timeout=every,
                                evaluation_interval=every)
    header = "# generated from prometheus/prometheus.yml by `shop up`; edits are overwritten\n"
    return header + str(yaml.safe_dump(config, sort_keys=False))


# -- RabbitMQ's exporter -------------------------------------------------------------

RABBITMQ_CONF = Path("/etc/rabbitmq/rabbitmq.conf")
RABBITMQ_EXPORTER_SETTINGS = (
    "prometheus.tcp.ip = 127.0.0.1\n"
    f"prometheus.tcp.port = {RABBITMQ_PROMETHEUS_PORT}\n"
)


def record_rabbitmq_exporter_address(say: Callable[[str], None]) -> None:
    """Bind the exporter to 127.0.0.1 from the broker's next boot on (rabbitmq.conf)."""
    try:
        current = RABBITMQ_CONF.read_text() if RABBITMQ_CONF.exists() else ""
        if "prometheus.tcp.ip" not in current:
            with RABBITMQ_CONF.open("a") as conf:
                conf.write(("\n" if current and not current.endswith("\n") else "")
                           + RABBITMQ_EXPORTER_SETTINGS)
    except OSError as exc:
        say(f"could not record the exporter's address in {RABBITMQ_CONF}: {exc}")


def ensure_rabbitmq_exporter(say: Callable[[str], None] = print) -> None:
    """Enable the rabbitmq_prometheus plugin, listening on 127.0.0.1 only (idempotent)."""
    record_rabbitmq_exporter_address(say)
    if port_open("127.0.0.1", RABBITMQ_PROMETHEUS_PORT):
        return
    say("enabling RabbitMQ's Prometheus plugin")
    # rabbitmq.conf is read only when the broker boots: set the same listener in the
    # running broker, so no restart is needed now.
    listener = f'[{{ip, "127.0.0.1"}}, {{port, {RABBITMQ_PROMETHEUS_PORT}}}]'
    set_env = f"application:set_env(rabbitmq_prometheus, tcp_config, {listener})."
    subprocess.run(
        ["rabbitmqctl", "eval", set_env],
        check=False, capture_output=True, timeout=60,
    )
    subprocess.run(["rabbitmq-plugins", "enable", "rabbitmq_prometheus"],
                   check=False, capture_output=True, timeout=120)
    if not wait_for(lambda: port_open("127.0.0.1", RABBITMQ_PROMETHEUS_PORT), 30):
        raise RuntimeError("RabbitMQ's Prometheus plugin did not start "
                           "(`rabbitmq-plugins enable rabbitmq_prometheus`)")


# -- the hooks `shop up` and `shop status` call ---------------------------------------


def require_binaries() -> None:
    """RuntimeError naming the missing programs unless `prometheus` and `prometheus-pushgateway`
    are on the PATH (`make system-deps` installs them).
    """
    missing = [b for b in ("prometheus", "prometheus-pushgateway") if shutil.which(b) is None]
    if missing:
        raise RuntimeError(f"missing {', '.join(missing)}: run `make system-deps`")


def require_credentials(env: dict[str, str]) -> MetricsCredentials:
    """The metrics user and password from `.env` (SHOP_METRICS_USER, SHOP_METRICS_PASSWORD);
    RuntimeError when the password is empty.
    """
    credentials = MetricsCredentials.from_env(env)
    if credentials is None:
        raise RuntimeError("SHOP_METRICS_PASSWORD is empty in .env: the Pushgateway and "
                           "Prometheus need it (delete the line; `shop up` generates one)")
    return credentials


def set_up(env: dict[str, str]) -> None:
    """Prepare what observability needs before any process starts (idempotent)."""
    require_binaries()
    credentials = require_credentials(env)
    ensure_rabbitmq_exporter(lambda message: print(f"shop: {message}", flush=True))
    if supervisor.running_pid() is None:
        # A new stack starts its counters at zero, like the (empty) Pushgateway;
        # never wipe under running processes, which hold these files open.
        shutil.rmtree(METRICS_DIR, ignore_errors=True)
    for service in observed_services():
        metrics_dir(service).mkdir(parents=True, exist_ok=True)
    addresses = Addresses.from_env(env)
    (PROMETHEUS_VAR / "data").mkdir(parents=True, exist_ok=True)
    PROMETHEUS_VAR.chmod(0o700)
    write_web_config(WEB_CONFIG, credentials)
    write_password_file(PASSWORD_FILE, credentials)
    (PROMETHEUS_VAR / "prometheus.yml").write_text(render_prometheus_config(
        pushgateway=host_port(addresses.pushgateway_url),
        prometheus=host_port(addresses.prometheus_url),
        rabbitmq_exporter=addresses.rabbitmq_exporter,
        basic_auth=(credentials.user, PASSWORD_FILE),
    ))


def programs(env: dict[str, str]) -> list[Program]:
    """The observability's supervisord programs: the Pushgateway, Prometheus and one sidecar per
    service (`<service>-metrics`), each with basic auth. RuntimeError when
    SHOP_METRICS_PASSWORD is empty.
    """
    addresses = Addresses.from_env(env)
    credentials = require_credentials(env)
    found = [
        Program(name="pushgateway", priority=10, command=pushgateway_command(
            host_port(addresses.pushgateway_url), WEB_CONFIG)),
        Program(name="prometheus", priority=20, command=prometheus_command(
            PROMETHEUS_VAR / "prometheus.yml", PROMETHEUS_VAR / "data",
            host_port(addresses.prometheus_url), WEB_CONFIG)),
    ]
    for service in observed_services():
        found.append(Program(
            name=f"{service}-metrics", priority=200,
            command=sidecar_command(service, metrics_dir(service), addresses.pushgateway_url,
                                    addresses.push_seconds, user=credentials.user,
                                    password_file=PASSWORD_FILE),
        ))
    return found


Auth = tuple[str, str] | None


def endpoint_health(url: str, auth: Auth = None) -> str:
    """The `shop status` state of a Pushgateway or Prometheus endpoint (3 s timeout): `up` on
    200, a hint on 401 (the running server has another password than `.env`), else `down`.
    """
    try:
        status = requests.get(url, timeout=3, auth=auth).status_code
    except requests.RequestException:
        return "down"
    if status == 401:
        return "refuses SHOP_METRICS_PASSWORD (restart the stack after changing it)"
    return "up" if status == 200 else "down"


def service_health_per_prometheus(prometheus_url: str, service: str, auth: Auth = None) -> str:
    """`job:shop_service_up` of one service, as the status table shows it."""
    try:
        response = requests.get(prometheus_url + "/api/v1/query", timeout=3, auth=auth,
                                params={"query": f'job:shop_service_up{{job="{service}"}}'})
        result = response.json()["data"]["result"]
    except (requests.RequestException, ValueError, KeyError):
        return "unknown (Prometheus down)"
    if not result:
        return "unknown (no data yet)"
    return "up" if float(result[0]["value"][1]) == 1 else "down (not pushing)"


def components(env: dict[str, str]) -> list[Component]:
    """The observability's rows of `shop status`: the Pushgateway, Prometheus, and per service
    `job:shop_service_up` as Prometheus computes it.
    """
    addresses = Addresses.from_env(env)
    prometheus = addresses.prometheus_url
    credentials = MetricsCredentials.from_env(env)
    auth = credentials.requests_auth if credentials else None
    found = [
        Component("Pushgateway", addresses.pushgateway_url,
                  lambda: endpoint_health(addresses.pushgateway_url + "/-/healthy", auth)),
        Component("Prometheus", prometheus,
                  lambda: endpoint_health(prometheus + "/-/ready", auth)),
    ]
    for service in observed_services():
        found.append(Component(
            f"{service} per Prometheus", f"{prometheus}/consoles/shop.html",
            lambda service=service: service_health_per_prometheus(  # type: ignore[misc]
                prometheus, service, auth),
        ))
    return found
