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

What an environment prints reaches the log redacted (`RedactedOutput`), whole lines at a
time: a function's own logging may redact its lines, but `print()`, a library writing to
stderr and awslambdaric's `[ERROR]` line for an unhandled exception (its message and
stack trace) do not pass through it, and no secret may reach a log file whatever wrote it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import BinaryIO

from shop_common.redaction import redact_text
from shop_local.runtime.lambda_limits import billed_ms

FLUSH_SECONDS = 0.05
BUFFER_BYTES = 64 * 1024
# A line longer than this is redacted and written in parts rather than held whole.
MAX_PENDING_BYTES = 64 * 1024


def start_line(request_id: str, version: str = "$LATEST") -> bytes:
    """Lambda's `START RequestId: <id> Version: <version>` platform line, newline-terminated.

    As https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html shows it.
    """
    return f"START RequestId: {request_id} Version: {version}\n".encode()


def end_line(request_id: str) -> bytes:
    """Lambda's `END RequestId: <id>` platform line, newline-terminated."""
    return f"END RequestId: {request_id}\n".encode()


def report_line(request_id: str, duration_ms: float, memory_mb: int, max_memory_used_mb: int,
                init_duration_ms: float | None = None) -> bytes:
    """Lambda's tab-separated `REPORT` platform line, newline-terminated.

    Durations in milliseconds (two decimals; billed duration rounded up to whole ms by
    `billed_ms`), memory size and maximum used in MB; `Init Duration` only when
    `init_duration_ms` is given (a cold start).
    """
    line = (f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {billed_ms(duration_ms)} ms\tMemory Size: {memory_mb} MB\t"
            f"Max Memory Used: {max_memory_used_mb} MB\t")
    if init_duration_ms is not None:
        line += f"Init Duration: {init_duration_ms:.2f} ms\t"
    return (line + "\n").encode()


def redact_output(data: bytes) -> bytes:
    """`data` with every secret it visibly holds replaced (`shop_common.redaction`).

    Bytes that are not UTF-8 pass through unchanged (surrogate escapes).
    """
    text = data.decode("utf-8", "surrogateescape")
    redacted = redact_text(text)
    return data if redacted == text else redacted.encode("utf-8", "surrogateescape")


class RedactedOutput:
    """One environment's output as it is read from its pipe, redacted a whole line at a time.

    A pipe read can end in the middle of a line, and a secret split across two reads
    would match no pattern, so the unfinished line is held until its end arrives, it
    passes `MAX_PENDING_BYTES`, or `flush()` is called (an invocation ended, the
    process exited).
    """

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, data: bytes) -> bytes:
        """The complete lines `data` finishes, redacted; b"" while a line is unfinished."""
        self._pending += data
        end = self._pending.rfind(b"\n") + 1
        if end == 0:
            if len(self._pending) < MAX_PENDING_BYTES:
                return b""
            end = len(self._pending)
        lines = bytes(self._pending[:end])
        del self._pending[:end]
        return redact_output(lines)

    def flush(self) -> bytes:
        """What is held of an unfinished line, redacted."""
        rest = bytes(self._pending)
        self._pending.clear()
        return redact_output(rest) if rest else b""


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
        """The log file of `function_name`: `<directory>/<function_name>.log`."""
        return self.directory / f"{function_name}.log"

    def write(self, function_name: str, data: bytes) -> None:
        """Append `data` (bytes, as they are) to the function's log, and echo it if set.

        Opens the file on first use (creating the directory); raises OSError when it cannot.
        Flushed within `FLUSH_SECONDS` (0.05 s) by the running loop, at once without one.
        """
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
        """Flush every log file and the echo stream; an echo stream that fails is dropped."""
        self._flush_pending = False
        for out in self._files.values():
            out.flush()
        if self._echo is not None:
            try:
                self._echo.flush()
            except (OSError, ValueError):  # the echo stream went away; the files stay
                self._echo = None

    def close(self) -> None:
        """Flush and close every log file; a later `write` opens them again."""
        self.flush()
        for out in self._files.values():
            out.close()
        self._files.clear()
