"""The gateway tests' helpers: a `shop serve` process of a Chalice project on a free port,
and raw HTTP/1.1 exchanges over one socket (for what no HTTP client will send)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import requests

from shop_local.paths import ROOT
from tests.support.polling import wait_until
from tests.support.stack import free_port

PROBE_APP = Path(__file__).parent / "apps" / "gateway_probe"


@dataclass
class ServedProject:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    record_file: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def invoke_url(self) -> str:
        """The Lambda Invoke API endpoint `shop serve` printed."""
        found = re.search(r"Lambda Invoke API: (http://\S+)", self.log())
        assert found, self.log()
        return found.group(1)

    def recorded(self) -> list[str]:
        if not self.record_file.exists():
            return []
        return self.record_file.read_text().split()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def copy_probe(folder: Path) -> Path:
    project = folder / "gateway_probe"
    shutil.copytree(PROBE_APP, project, ignore=shutil.ignore_patterns("__pycache__"))
    return project


def serve(project: Path, workdir: Path, *extra: str, **env: str) -> ServedProject:
    """`shop serve project` on a free port, started and answering; stop() it when done."""
    port = free_port()
    log_path = workdir / f"serve-{port}.log"
    record_file = workdir / f"calls-{port}.txt"
    environment = {**os.environ, "PYTHONUNBUFFERED": "1",
                   "PROBE_RECORD_FILE": str(record_file),
                   "SHOP_LAMBDA_LOG_DIR": str(workdir / "lambda-logs"), **env}
    process = subprocess.Popen(
        [sys.executable, "-m", "shop_local.cli", "serve", str(project), "--port", str(port),
         "--lambda-port", "0", *extra],
        env=environment, cwd=ROOT, stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
    )
    served = ServedProject(process, port, log_path, record_file)

    def answering() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"shop serve exited:\n{served.log()[-3000:]}")
        try:
            return requests.get(served.url + "/ping", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_until(answering, 90, interval=0.2, what="shop serve answering /ping")
    except BaseException:
        served.stop()
        raise
    return served


@dataclass
class RawExchange:
    data: bytes
    closed: bool

    @property
    def statuses(self) -> list[int]:
        """The status of every response in the stream (by their status lines)."""
        found = []
        for line in self.data.split(b"\r\n"):
            at = line.find(b"HTTP/1.1 ")
            if at >= 0 and line[at + 9: at + 12].isdigit():
                found.append(int(line[at + 9: at + 12]))
        return found


def raw_exchange(port: int, request: bytes, wait: float = 10.0) -> RawExchange:
    """Send `request` as is and read until the server closes or `wait` seconds of silence."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(request)
        data = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return RawExchange(data, closed=True)
                data += chunk
        except TimeoutError:
            return RawExchange(data, closed=False)
        except ConnectionResetError:
            return RawExchange(data, closed=True)
