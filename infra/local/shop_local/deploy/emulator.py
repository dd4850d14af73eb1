"""The embedded emulated cloud: moto's server, started when nothing answers at the endpoint.

It runs on the host (no Docker engine needed), bound to 127.0.0.1 only, in a
session of its own so that it outlives the `shop deploy` that started it and a
later `shop deploy --verify` sees the same cloud. Its pid file says it is ours:
only a process started from this state folder is ever stopped by it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from shop_local.deploy.endpoint import Endpoint, answers
from shop_local.probes import wait_for

START_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class EmbeddedEmulator:
    """moto's server for `endpoint`, its pid file and log in `state_dir` (one per port)."""
    endpoint: Endpoint
    state_dir: Path

    @property
    def pid_file(self) -> Path:
        """`<state_dir>/emulator-<port>.pid`: the pid of the server this folder started."""
        return self.state_dir / f"emulator-{self.endpoint.port}.pid"

    @property
    def log_file(self) -> Path:
        """`<state_dir>/emulator-<port>.log`: the server's output, appended to."""
        return self.state_dir / f"emulator-{self.endpoint.port}.log"

    def command(self) -> list[str]:
        """`python -m moto.server -H 127.0.0.1 -p <port>`: every emulated AWS service on one
        port, loopback only.
        """
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                "-p", str(self.endpoint.port)]

    def start(self) -> int:
        """Start moto's server and wait until it answers; return its pid."""
        if not self.endpoint.is_loopback:
            raise RuntimeError(
                f"nothing answers at {self.endpoint.url}, and the embedded emulator only "
                "runs on this machine (127.0.0.1)"
            )
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.state_dir,
            )
        self.pid_file.write_text(str(process.pid))
        if not wait_for(lambda: process.poll() is None and answers(self.endpoint),
                        START_TIMEOUT_SECONDS, interval=0.2):
            self.stop()
            tail = self.log_file.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the embedded emulator did not start:\n{tail}")
        return process.pid

    def running_pid(self) -> int | None:
        """The pid in the pid file when that process is alive (and ours to signal), else None.
        """
        try:
            pid = int(self.pid_file.read_text())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None
        return pid

    def stop(self) -> bool:
        """Stop the emulator this state folder started; False when none was running."""
        pid = self.running_pid()
        self.pid_file.unlink(missing_ok=True)
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            _reap(pid)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
        _reap(pid)
        return True


def _reap(pid: int) -> None:
    """Collect the child's exit status when this process is its parent (tests, one command)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
