"""Small probes of the machine: is a port open, is a process alive, wait until a check holds."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when a TCP connection to `host:port` succeeds within `timeout` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.25) -> bool:
    """Poll `check` every `interval` seconds until it is true or `timeout` seconds pass.

    Returns the last answer, so a check that turns true just at the deadline still counts.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def pid_alive(pid: int) -> bool:
    """True for a running process; a zombie (exited, not yet reaped) counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: trust the signal check
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
