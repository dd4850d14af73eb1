"""Footprint: the whole stack under its own supervisord, as `shop up` runs it.

Every program `shop up` supervises (the three HTTP services, the MQ emulator, the
SMTP sink, the Pushgateway, Prometheus and a metrics sidecar per service) with the
same command lines, but on free ports and in a temporary folder, against the
throw-away stack's databases, vhost and keys. Measured: the time from starting
supervisord to every component healthy; RSS and PSS (from /proc/<pid>/smaps_rollup,
so shared pages count once) of supervisord's whole process tree, idle and under load
(`GET /products` at 16 connections); login latency with the argon2 parameters in
use, and what candidate parameters cost on this machine.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests
from argon2 import PasswordHasher

from bench import loadgen
from bench.context import Context
from bench.report import Row, median
from shop_common import passwords
from shop_local.mappings import load_mapping_file
from shop_local.probes import port_open
from shop_local.stack import observability as obs
from shop_local.stack import supervisor
from shop_local.stack.supervisor import Program, SupervisorPaths
from tests.integration.events.support import write_mappings
from tests.support.client import DEFAULT_PASSWORD
from tests.support.polling import wait_until
from tests.support.stack import free_port

SECTION = "footprint"
HTTP_SERVICES = ("user", "product", "order")
START_TIMEOUT_SECONDS = 120
LOGINS_PER_ROUND = 5
# (memory KiB, time cost, lanes): OWASP's Password Storage Cheat Sheet minimums for
# argon2id (m=19 MiB t=2 p=1 and its equivalents), and argon2-cffi's default.
ARGON2_CANDIDATES = ((19 * 1024, 2, 1), (46 * 1024, 1, 1), (12 * 1024, 3, 1),
                     (64 * 1024, 3, 4))
HASHES_PER_CANDIDATE = 5


@dataclass
class Ports:
    services: dict[str, int]
    smtp: int
    pushgateway: int
    prometheus: int


def programs(root: Path, ports: Ports, mappings: Path) -> list[Program]:
    metrics_root = root / "metrics"
    found = []
    for service in HTTP_SERVICES:
        found.append(Program(service, host_command(service, ports.services[service]),
                             environment=obs.metrics_environment(service, metrics_root)))
    found.append(Program("smtp-sink", [
        *python_module("shop_local.runtime.smtp_sink"), "--port", str(ports.smtp),
        "--maildir", str(root / "mail")], priority=50))
    found.append(Program("mq-emulator", [
        *python_module("shop_local.runtime.mq_emulator"), "--app", "communication",
        "--mappings", str(mappings), "--status-file", str(status_file(root))],
        stop_seconds=30, environment=obs.metrics_environment("communication", metrics_root)))
    gateway = f"127.0.0.1:{ports.pushgateway}"
    found.append(Program("pushgateway", obs.pushgateway_command(gateway), priority=10))
    found.append(Program("prometheus", obs.prometheus_command(
        root / "prometheus.yml", root / "prometheus-data", f"127.0.0.1:{ports.prometheus}"),
        priority=20))
    for service in obs.observed_services():
        directory = obs.metrics_dir(service, metrics_root)
        directory.mkdir(parents=True, exist_ok=True)
        found.append(Program(f"{service}-metrics", obs.sidecar_command(
            service, directory, f"http://{gateway}", obs.DEFAULT_PUSH_SECONDS,
            f"bench-{root.name}"), priority=200))
    return found


def python_module(module: str) -> list[str]:
    return [sys.executable, "-m", module]


def host_command(service: str, port: int) -> list[str]:
    return [*python_module("shop_local.runtime.host"), "--service", service, "--port", str(port)]


def status_file(root: Path) -> Path:
    return root / "mq-emulator.json"


# A service's first /health is a cold start that includes its app's environment template
# (1.5-2.5 s on a busy machine): a poll that gave up sooner would be retried while that
# invocation still runs, and the retry would start a second environment that a user's
# stack does not have, counted in the idle footprint.
HEALTH_TIMEOUT_SECONDS = 15


def healthy(url: str) -> bool:
    try:
        return requests.get(url, timeout=HEALTH_TIMEOUT_SECONDS).status_code == 200
    except requests.RequestException:
        return False


def all_healthy(root: Path, ports: Ports) -> bool:
    checks = [f"http://127.0.0.1:{ports.services[s]}/health" for s in HTTP_SERVICES]
    checks += [f"http://127.0.0.1:{ports.pushgateway}/-/healthy",
               f"http://127.0.0.1:{ports.prometheus}/-/ready"]
    if not all(healthy(url) for url in checks) or not port_open("127.0.0.1", ports.smtp):
        return False
    try:
        report = json.loads(status_file(root).read_text())
    except (OSError, ValueError):
        return False
    return all(m.get("state") == "consuming" for m in report.get("mappings", [])) and bool(
        report.get("mappings"))


# --- memory ---------------------------------------------------------------------------

def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def memory_kib(pid: int) -> tuple[int, int]:
    """RSS and PSS of one process, KiB (0, 0 once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    values = {line.split(":")[0]: int(line.split()[1]) for line in text.splitlines()[1:]
              if line.split(":")[0] in ("Rss", "Pss")}
    return values.get("Rss", 0), values.get("Pss", 0)


def tree_memory_mib(pid: int) -> tuple[float, float, int]:
    """Summed RSS and PSS (MiB) of a process and all its descendants, and their count."""
    pids = descendants(pid)
    pairs = [memory_kib(p) for p in pids]
    return sum(r for r, _ in pairs) / 1024, sum(p for _, p in pairs) / 1024, len(pids)


# --- the section ----------------------------------------------------------------------

def run(ctx: Context) -> list[Row]:
    stack = ctx.stack
    root = Path(tempfile.mkdtemp(prefix="shopfp-"))  # short: a unix socket path is short
    paths = SupervisorPaths.under(root)
    ports = Ports({s: free_port() for s in HTTP_SERVICES}, free_port(), free_port(), free_port())
    mappings = write_mappings(root / "event-source-mappings.json")
    obs.ensure_rabbitmq_exporter(lambda _message: None)
    (root / "prometheus.yml").write_text(obs.render_prometheus_config(
        pushgateway=f"127.0.0.1:{ports.pushgateway}",
        prometheus=f"127.0.0.1:{ports.prometheus}",
        rabbitmq_exporter=f"127.0.0.1:{obs.RABBITMQ_PROMETHEUS_PORT}"))
    env = stack.stack.process_env(
        SHOP_SMTP_PORT=str(ports.smtp),
        **{f"SHOP_{s.upper()}_SERVICE_URL": f"http://127.0.0.1:{p}"
           for s, p in ports.services.items()})
    rows: list[Row] = []
    try:
        load_mapping_file(mappings)  # fails here, not in the emulator, if it is malformed
        started = time.monotonic()
        supervisor.start(programs(root, ports, mappings), foreground=False, paths=paths,
                         environ=env)
        wait_until(lambda: all_healthy(root, ports), START_TIMEOUT_SECONDS, interval=0.1,
                   what="the whole stack healthy")
        rows.append(Row(SECTION, "supervisord start -> every component healthy",
                        time.monotonic() - started, "s"))
        pid = supervisor.running_pid(paths)
        assert pid is not None
        rows += memory_rows(ctx, pid, ports)
        rows += login_rows(ctx, ports)
    finally:
        if supervisor.shutdown(paths):
            wait_until(lambda: supervisor.running_pid(paths) is None, 60, what="supervisord down")
        shutil.rmtree(root, ignore_errors=True)
    return rows + argon2_rows()


def memory_rows(ctx: Context, pid: int, ports: Ports) -> list[Row]:
    time.sleep(2)  # let the start-up settle
    rss, pss, count = tree_memory_mib(pid)
    idle_rss = Row(SECTION, f"RSS, whole stack idle ({count} processes)", rss, "MiB")
    idle_pss = Row(SECTION, f"PSS, whole stack idle ({count} processes)", pss, "MiB")
    token = ctx.stack.shop.token(str(uuid.uuid4()))
    url = f"http://127.0.0.1:{ports.services['product']}/products"
    requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    samples: list[tuple[float, float, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            samples.append(tree_memory_mib(pid))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        loadgen.load(url, 16, max(2 * ctx.seconds, 4), f"Bearer {token}")
    finally:
        stop.set()
        sampler.join()
    busy_rss = max((s[0] for s in samples), default=0.0)
    busy_pss = max((s[1] for s in samples), default=0.0)
    return [
        idle_rss, idle_pss,
        Row(SECTION, "RSS, under load (c16 GET /products, peak)", busy_rss, "MiB"
            ).against(idle_rss),
        Row(SECTION, "PSS, under load (c16 GET /products, peak)", busy_pss, "MiB"
            ).against(idle_pss),
    ]


def login_rows(ctx: Context, ports: Ports) -> list[Row]:
    users = f"http://127.0.0.1:{ports.services['user']}"
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "password": DEFAULT_PASSWORD}
    with requests.Session() as session:
        session.post(users + "/users/register", json={**body, "name": "Bench"},
                     timeout=30).raise_for_status()
        latencies = []
        for _ in range(ctx.rounds * LOGINS_PER_ROUND):
            sent = time.perf_counter()
            session.post(users + "/users/login", json=body, timeout=30).raise_for_status()
            latencies.append(time.perf_counter() - sent)
    hasher = passwords._hasher()
    return [Row(SECTION, f"POST /users/login, sequential (argon2id m={hasher.memory_cost // 1024}"
                         f" MiB t={hasher.time_cost} p={hasher.parallelism})",
                1000 * median(latencies), "ms", samples=[round(1000 * x, 1) for x in latencies])]


def argon2_rows() -> list[Row]:
    """What each candidate costs per hash here, against the parameters in use."""
    current = passwords._hasher()
    in_use = (current.memory_cost, current.time_cost, current.parallelism)
    candidates = dict.fromkeys((in_use, *ARGON2_CANDIDATES))
    timings: dict[tuple[int, int, int], list[float]] = {c: [] for c in candidates}
    for _ in range(HASHES_PER_CANDIDATE):
        for memory, time_cost, lanes in candidates:  # interleaved
            hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory, parallelism=lanes)
            started = time.perf_counter()
            hasher.hash(DEFAULT_PASSWORD)
            timings[(memory, time_cost, lanes)].append(time.perf_counter() - started)
    rows = {c: Row(SECTION, f"argon2id hash m={c[0] // 1024} MiB t={c[1]} p={c[2]}"
                            + (" (in use)" if c == in_use else ""),
                   1000 * statistics.median(t), "ms") for c, t in timings.items()}
    for candidate, row in rows.items():
        if candidate != in_use:
            row.against(rows[in_use])
    return list(rows.values())

