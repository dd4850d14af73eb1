"""Each function's log as CloudWatch Logs shows it: its environments' output, the platform lines.

Per function one file, `<directory>/<function-name>.log`, holding what its execution
environments print (stdout and stderr) and, per invocation, Lambda's platform lines
(https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html):

    START RequestId: <id> Version: $LATEST
    END RequestId: <id>
    REPORT RequestId: <id>	Duration: 1.52 ms	Billed Duration: 2 ms	Memory Size: 512 MB
        Max Memory Used: 88 MB	Init Duration: 312.40 ms

(one line, tab-separated; `Init Duration` only on a cold start). Writes are buffered
and flushed within `FLUSH_SECONDS`, so a busy function costs no system call per line;
the same bytes can be echoed to another stream (the runtime process's own output).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import BinaryIO

from shop_local.runtime.lambda_limits import billed_ms

FLUSH_SECONDS = 0.05
BUFFER_BYTES = 64 * 1024


def start_line(request_id: str, version: str = "$LATEST") -> bytes:
    return f"START RequestId: {request_id} Version: {version}\n".encode()


def end_line(request_id: str) -> bytes:
    return f"END RequestId: {request_id}\n".encode()


def report_line(request_id: str, duration_ms: float, memory_mb: int, max_memory_used_mb: int,
                init_duration_ms: float | None = None) -> bytes:
    line = (f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {billed_ms(duration_ms)} ms\tMemory Size: {memory_mb} MB\t"
            f"Max Memory Used: {max_memory_used_mb} MB\t")
    if init_duration_ms is not None:
        line += f"Init Duration: {init_duration_ms:.2f} ms\t"
    return (line + "\n").encode()


class LogWriter:
    """The log files of every function of one Lambda service, and an optional echo stream.

    Use from the event loop's thread only.
    """

    def __init__(self, directory: Path, echo: BinaryIO | None = None) -> None:
        self.directory = directory
        self._echo = echo
        self._files: dict[str, BinaryIO] = {}
        self._flush_pending = False

    def path_of(self, function_name: str) -> Path:
        return self.directory / f"{function_name}.log"

    def write(self, function_name: str, data: bytes) -> None:
        out = self._files.get(function_name)
        if out is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            out = self._files[function_name] = open(  # noqa: SIM115 - kept open, closed in close()
                self.path_of(function_name), "ab", buffering=BUFFER_BYTES)
        out.write(data)
        if self._echo is not None:
            self._echo.write(data)
        if not self._flush_pending:
            self._flush_pending = True
            try:
                asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)
            except RuntimeError:  # no loop running: write through
                self.flush()

    def flush(self) -> None:
        self._flush_pending = False
        for out in self._files.values():
            out.flush()
        if self._echo is not None:
            try:
                self._echo.flush()
            except (OSError, ValueError):  # the echo stream went away; the files stay
                self._echo = None

    def close(self) -> None:
        self.flush()
        for out in self._files.values():
            out.close()
        self._files.clear()
