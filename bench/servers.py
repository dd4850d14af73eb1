"""Servers under test as child processes on free 127.0.0.1 ports, started and stopped cleanly.

Each runs in its own session, so stopping it also stops what it started
(serverless-offline's Python workers); its output goes to a log file in the
benchmark's work folder, shown when it fails to start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.support.stack import free_port

START_TIMEOUT_SECONDS = 90


@dataclass
class ServerSpec:
    """How to start one server: `{port}` in the command is replaced by its port."""

    name: str
    command: list[str]
    path: str = "/ping"  # what the load asks for, and what must answer 200 before it starts
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    extra_ports: tuple[str, ...] = ()  # more `{name}` placeholders that need a free port


@dataclass
class RunningServer:
    spec: ServerSpec
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.spec.path}"

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def start(spec: ServerSpec, workdir: Path, *, headers: dict[str, str] | None = None
          ) -> RunningServer:
    """Start `spec` and wait until its path answers 200; raise with its log if it does not."""
    port = free_port()
    ports = {"port": port, **{name: free_port() for name in spec.extra_ports}}
    command = [part.format(**ports) for part in spec.command]
    log_path = workdir / f"{spec.name.replace(' ', '-').replace('/', '-')}-{port}.log"
    process = subprocess.Popen(
        command, cwd=spec.cwd, env={**os.environ, **spec.env},
        stdout=log_path.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = RunningServer(spec, port, process, log_path)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{spec.name} exited at start:\n{server.log_tail()}")
        try:
            if requests.get(server.url, headers=headers, timeout=5).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{spec.name} did not answer {spec.path} in time:\n{server.log_tail()}")


@contextlib.contextmanager
def running(specs: list[ServerSpec], workdir: Path, *, headers: dict[str, str] | None = None
            ) -> Iterator[dict[str, RunningServer]]:
    """Start every spec (all at once, so runs can interleave); stop them all at the end."""
    started: dict[str, RunningServer] = {}
    try:
        for spec in specs:
            started[spec.name] = start(spec, workdir, headers=headers)
        yield started
    finally:
        for server in started.values():
            server.stop()
