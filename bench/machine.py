"""Where and with what the figures were measured: machine, versions, date, command."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import loadgen, peers

PYTHON_PACKAGES = ("chalice", "uvicorn", "httptools", "granian", "redis", "pg8000", "psycopg",
                   "sqlalchemy", "pika", "pyjwt", "argon2-cffi")


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def node_version() -> str | None:
    try:
        result = subprocess.run(["node", "--version"], capture_output=True, text=True,
                                check=False)
    except OSError:
        return None
    return result.stdout.strip() or None


def describe(argv: list[str]) -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench " + shlex.join(argv) if argv else "make bench",
        "machine": {
            "cpu": cpu_model(), "cores": os.cpu_count(), "memory_gib": memory_gib(),
            "kernel": platform.release(), "load_average_at_start": load_average(),
        },
        "versions": {
            "python": sys.version.split()[0],
            **{name: package_version(name) for name in PYTHON_PACKAGES},
            "node": node_version(), **peers.npm_versions(),
            "load_generator": loadgen.wrk_version() or "python (wrk not installed)",
        },
        "runtime_http_server": peers.runtime_server(),
    }


def summary(context: dict[str, Any]) -> str:
    machine = context["machine"]
    versions = context["versions"]
    return (f"{context['date']}  {machine['cpu']}, {machine['cores']} cores, "
            f"{machine['memory_gib']} GiB, Linux {machine['kernel']}, load "
            f"{'/'.join(str(x) for x in machine['load_average_at_start'])} at start\n"
            f"Python {versions['python']}, chalice {versions['chalice']}, "
            f"load generator: {versions['load_generator']}; runtime HTTP server: "
            f"{context['runtime_http_server']}")
