"""One execution environment, seen from the Lambda service: a process, its init, its invocations.

The process runs AWS's runtime interface client (`awslambdaric`) with the function's
code folder as working directory and `LAMBDA_TASK_ROOT`, Lambda's standard variables,
the function's configured variables and a private temporary folder (`TMPDIR`). It
talks to the service over a transport (`EnvironmentChannel`): the fast socket of
`lambda_wire` by default, or the HTTP Runtime API (`runtime_api`).

Life cycle, as Lambda's (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html):
`starting` (the init phase: the handler's module is imported; `Init Duration` is
measured up to its first `next`) -> `idle` <-> `busy` (one invocation at a time) ->
`dead` (a timeout or the memory limit killed it, it crashed, or it was shut down).
A dead environment is never reused: the next invocation gets a fresh one.

Everything here runs on the Lambda service's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from shop_local.aws_local import LOCAL_REGION
from shop_local.runtime import function_logs, lambda_limits, lambda_wire
from shop_local.runtime.catalog import FunctionSpec
from shop_local.runtime.ids import random_hex
from shop_local.runtime.invocation import SYNC_PAYLOAD_LIMIT_BYTES, InvocationResult
from shop_local.runtime.launchers import Launcher, LaunchRequest

TAIL_BYTES = 4096
KB = 1024


class InitFailed(Exception):
    """The environment's init phase failed; `document` is Lambda's error document for it."""

    def __init__(self, document: bytes) -> None:
        super().__init__(document.decode(errors="replace"))
        self.document = document


@dataclass
class Invocation:
    """One invocation handed to an environment. `deadline_ms` is epoch milliseconds."""

    request_id: str
    payload: bytes
    deadline_ms: int
    future: asyncio.Future[InvocationResult]
    trace_id: str = ""
    client_context: str = ""
    cognito_identity: str = ""
    tail: bytearray | None = None  # collects the log lines when `LogType: Tail` asked for them
    started: float = field(default_factory=time.perf_counter)


class EnvironmentChannel(Protocol):
    """How invocations reach the runtime interface client in the process."""

    def send_invocation(self, invocation: Invocation, function_arn: str) -> None:
        """Hand `invocation` to the runtime without waiting for its result.

        The runtime gets what the Lambda runtime API's "Next invocation" answers
        (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html): the payload, the
        request id, the deadline (epoch ms), the function ARN, the trace id, the client
        context and the Cognito identity.
        """

    def close(self) -> None:
        """Stop talking to the process; nothing more is sent or received."""


@dataclass(frozen=True)
class ChannelSetup:
    """A transport for one environment: the process's command, the variables and the
    descriptors it inherits (closed in the service once the process is spawned)."""

    channel: EnvironmentChannel
    command: list[str]
    variables: dict[str, str]
    pass_fds: tuple[int, ...] = ()


ChannelFactory = Callable[["ExecutionEnvironment"], Awaitable[ChannelSetup]]


def trace_id() -> str:
    """An X-Ray trace header, `Root=1-<epoch hex>-<96 random bits>;Parent=...;Sampled=0`."""
    return f"Root=1-{int(time.time()):08x}-{random_hex(12)};Parent={random_hex(8)};Sampled=0"


def log_stream_name() -> str:
    """`YYYY/MM/DD/[$LATEST]<32 hex>`, as Lambda names an environment's log stream."""
    return f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"


def standard_variables(spec: FunctionSpec, stream: str) -> dict[str, str]:
    """Lambda's defined runtime variables
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime)."""
    import awslambdaric

    return {
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_REGION": LOCAL_REGION,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "_HANDLER": spec.handler,
        "LAMBDA_TASK_ROOT": spec.code_dir,
        "LAMBDA_RUNTIME_DIR": str(Path(awslambdaric.__file__).parent),
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PYTHONUNBUFFERED": "1",
    }


def process_tree_rss_bytes(pid: int) -> int:
    """Resident memory of `pid` and its descendants (from /proc), 0 once it is gone."""
    total = 0
    pending = [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/statm", "rb") as statm:
                total += int(statm.read().split()[1]) * page
            with open(f"/proc/{current}/task/{current}/children", "rb") as children:
                pending.extend(int(child) for child in children.read().split())
        except (OSError, ValueError, IndexError):
            continue
    return total


class ExecutionEnvironment:
    """One environment of one function; created by the function's pool, see the module doc."""

    def __init__(self, spec: FunctionSpec, logs: function_logs.LogWriter,
                 on_idle: Callable[[ExecutionEnvironment], None],
                 on_dead: Callable[[ExecutionEnvironment], None]) -> None:
        self.spec = spec
        self.id = uuid.uuid4().hex[:12]
        self.state = "starting"
        self.pid = 0
        self.init_duration_ms: float | None = None
        self.max_memory_kb = 0
        self.returncode: int | None = None
        self.stream = log_stream_name()
        self._logs = logs
        self._on_idle = on_idle
        self._on_dead = on_dead
        self._loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[None] = self._loop.create_future()
        self._channel: EnvironmentChannel | None = None
        self._exited = False
        self._current: Invocation | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._init_error: bytes | None = None
        self._output_fd = -1
        self._output = function_logs.RedactedOutput()
        self._tmp: Path | None = None
        self._spawned_at = 0.0
        self._cold = True  # the first invocation reports Init Duration
        self.idle_since = time.monotonic()

    # --- start ----------------------------------------------------------------------

    async def start(self, base_environment: dict[str, str], tmp_root: Path,
                    channel_factory: ChannelFactory, launcher: Launcher) -> None:
        """Spawn the process; `channel_factory` makes the transport (see `ChannelSetup`)."""
        self._tmp = tmp_root / f"{self.spec.name}-{self.id}"
        self._tmp.mkdir(parents=True)
        setup = await channel_factory(self)
        self._channel = setup.channel
        environ = {**base_environment, **self.spec.environment,
                   **standard_variables(self.spec, self.stream), **setup.variables,
                   "TMPDIR": str(self._tmp)}
        read_fd, write_fd = os.pipe()
        try:
            self._spawned_at = time.perf_counter()
            self.pid = await launcher.launch(LaunchRequest(
                command=setup.command, cwd=self.spec.code_dir, environment=environ,
                pass_fds=setup.pass_fds, output_fd=write_fd, handler=self.spec.handler,
                socket_fd=setup.pass_fds[0] if setup.pass_fds else -1,
            ), self._process_exited)
        finally:
            os.close(write_fd)
            for fd in setup.pass_fds:
                os.close(fd)  # the child has its copy
        os.set_blocking(read_fd, False)
        self._output_fd = read_fd
        self._loop.add_reader(read_fd, self._read_output)
        self._timer = self._loop.call_later(
            lambda_limits.INIT_LIMIT_SECONDS + self.spec.timeout_seconds, self._init_too_long)

    # --- what the transport reports ------------------------------------------------

    def on_ready(self) -> None:
        """The runtime asked for its first invocation: the init phase is over."""
        if self.state != "starting":
            return
        self.init_duration_ms = (time.perf_counter() - self._spawned_at) * 1000
        self._cancel_timer()
        self.state = "idle"
        self.idle_since = time.monotonic()
        if not self.ready.done():
            self.ready.set_result(None)

    def on_init_error(self, document: bytes) -> None:
        """The runtime reported an init error (`document`: Lambda's error document, JSON bytes).

        Kept, and given to whoever awaits `ready` when the process then exits during init.
        """
        self._init_error = document

    def on_result(self, request_id: str, body: bytes, max_rss_kb: int,
                  error_type: str | None) -> None:
        """A response (`error_type` None) or an error document for the current invocation."""
        invocation = self._current
        if invocation is None or invocation.request_id != request_id:
            return  # late answer of an invocation already settled (timed out)
        self.max_memory_kb = max(self.max_memory_kb, max_rss_kb)
        if self.max_memory_kb > self.spec.memory_mb * KB:
            # Over its memory size between two polls: Lambda would have killed it.
            self.kill()
            return  # settled by _process_exited, as a runtime that died
        if error_type is None and len(body) > SYNC_PAYLOAD_LIMIT_BYTES:
            body, error_type = lambda_limits.response_too_large(len(body)), "Unhandled"
        self._finish(invocation, InvocationResult(
            payload=body, function_error="Unhandled" if error_type is not None else None,
            request_id=request_id))
        self.state = "idle"
        self.idle_since = time.monotonic()
        self._on_idle(self)

    # --- invoking -------------------------------------------------------------------

    def invoke(self, invocation: Invocation) -> None:
        """Hand one invocation to an idle environment; its future settles with the result."""
        assert self.state == "idle" and self._channel is not None
        self.state = "busy"
        self._current = invocation
        self._log(invocation, function_logs.start_line(invocation.request_id))
        self._timer = self._loop.call_at(
            self._loop.time() + max(0.0, invocation.deadline_ms / 1000 - time.time()),
            self._timed_out)
        self._channel.send_invocation(invocation, self.spec.arn)

    def _finish(self, invocation: Invocation, result: InvocationResult) -> None:
        self._cancel_timer()
        self._current = None
        self._flush_output(invocation)  # an unfinished last line is still this invocation's
        duration_ms = (time.perf_counter() - invocation.started) * 1000
        init_ms = self.init_duration_ms if self._cold else None
        self._cold = False
        self._log(invocation, function_logs.end_line(invocation.request_id)
                  + function_logs.report_line(invocation.request_id, duration_ms,
                                              self.spec.memory_mb,
                                              -(-self.max_memory_kb // KB), init_ms))
        if invocation.tail is not None:
            tail = bytes(invocation.tail[-TAIL_BYTES:]).decode(errors="replace")
            result = InvocationResult(result.payload, result.function_error, tail,
                                      result.request_id, result.executed_version)
        if not invocation.future.done():
            invocation.future.set_result(result)

    def _timed_out(self) -> None:
        invocation = self._current
        if invocation is None:
            return
        message = lambda_limits.timeout_message(self.spec.timeout_seconds)
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        self._log(invocation, f"{stamp} {invocation.request_id} {message}\n".encode())
        self._finish(invocation, InvocationResult(
            payload=lambda_limits.timed_out(invocation.request_id, self.spec.timeout_seconds),
            function_error="Unhandled", request_id=invocation.request_id))
        self.kill()

    def _init_too_long(self) -> None:
        self._init_error = lambda_limits.error_document(
            "", f"Init phase timed out after {lambda_limits.INIT_LIMIT_SECONDS:.2f} seconds",
            "Sandbox.Timedout")
        self.kill()

    # --- memory ---------------------------------------------------------------------

    def check_memory(self) -> None:
        """Kill the environment when its processes' resident memory exceeds the memory size."""
        if self.state in ("dead",) or self.pid == 0:
            return
        rss = process_tree_rss_bytes(self.pid)
        self.max_memory_kb = max(self.max_memory_kb, rss // KB)
        if rss > self.spec.memory_mb * KB * KB:
            self.kill()

    # --- output and exit ------------------------------------------------------------

    def _log(self, invocation: Invocation | None, data: bytes) -> None:
        self._logs.write(self.spec.name, data)
        if invocation is not None and invocation.tail is not None:
            invocation.tail += data
            if len(invocation.tail) > 4 * TAIL_BYTES:
                del invocation.tail[:-TAIL_BYTES]

    def _read_output(self) -> None:
        self._read_available(once=True)

    def _read_available(self, once: bool = False) -> None:
        """Copy what the process printed, redacted, to the function's log; close the pipe
        at its end."""
        while self._output_fd >= 0:
            try:
                data = os.read(self._output_fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._loop.remove_reader(self._output_fd)
                os.close(self._output_fd)
                self._output_fd = -1
                self._flush_output(self._current)
                return
            lines = self._output.feed(data)
            if lines:
                self._log(self._current, lines)
            if once:
                return

    def _flush_output(self, invocation: Invocation | None) -> None:
        rest = self._output.flush()
        if rest:
            self._log(invocation, rest)

    def _process_exited(self, returncode: int) -> None:
        self.returncode = returncode
        self._exited = True
        self._read_available()  # all it printed belongs before the exit's lines
        if self._output_fd >= 0:  # a descendant still holds the pipe: stop listening
            self._loop.remove_reader(self._output_fd)
            os.close(self._output_fd)
            self._output_fd = -1
            self._flush_output(self._current)
        self._become_dead()

    def _become_dead(self) -> None:
        if self.state == "dead":
            return
        was_starting = self.state == "starting"
        self.state = "dead"
        self._cancel_timer()
        if self._channel is not None:
            self._channel.close()
        invocation = self._current
        if invocation is not None:
            self._log(invocation, (f"RequestId: {invocation.request_id} Error: Runtime exited "
                                   f"with error: {lambda_limits.exit_reason(self.returncode)}\n"
                                   "Runtime.ExitError\n").encode())
            self._finish(invocation, InvocationResult(
                payload=lambda_limits.runtime_exited(invocation.request_id, self.returncode),
                function_error="Unhandled", request_id=invocation.request_id))
        if was_starting and not self.ready.done():
            document = self._init_error or lambda_limits.error_document(
                "", f"Runtime exited with error: {lambda_limits.exit_reason(self.returncode)}",
                "Runtime.ExitError")
            self.ready.set_exception(InitFailed(document))
            self.ready.exception()  # retrieved: a cold start nobody awaits is not an error
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
        self._on_dead(self)

    def kill(self) -> None:
        """Stop the process now (SIGKILL); the exit is handled when the kernel reports it."""
        if self.pid and not self._exited:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def bootstrap_command() -> list[str]:
    """The command that runs AWS's runtime interface client over the socket transport."""
    return [sys.executable, "-m", "shop_local.runtime.lambda_bootstrap"]


class SocketChannel(asyncio.Protocol):
    """The fast transport's service end (see lambda_wire): frames in, callbacks out."""

    def __init__(self, environment: ExecutionEnvironment) -> None:
        self._environment = environment
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    @classmethod
    async def create(cls, environment: ExecutionEnvironment) -> ChannelSetup:
        """A socket pair for a new environment: this end joins the running loop as the channel.

        The other end is passed to the process as `SHOP_LAMBDA_SOCKET_FD`, with the command
        `bootstrap_command` gives.
        """
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        channel = cls(environment)
        await asyncio.get_running_loop().connect_accepted_socket(lambda: channel, ours)
        fd = theirs.detach()
        return ChannelSetup(channel, bootstrap_command(), {"SHOP_LAMBDA_SOCKET_FD": str(fd)},
                            (fd,))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        header_size = lambda_wire.HEADER.size
        while len(buffer) >= header_size:
            kind, meta_length, body_length = lambda_wire.HEADER.unpack_from(buffer)
            end = header_size + meta_length + body_length
            if len(buffer) < end:
                return
            meta = bytes(buffer[header_size:header_size + meta_length])
            body = bytes(buffer[header_size + meta_length:end])
            del buffer[:end]
            self._dispatch(kind, meta, body)

    def _dispatch(self, kind: int, meta: bytes, body: bytes) -> None:
        environment = self._environment
        if kind in (lambda_wire.RESPONSE, lambda_wire.ERROR):
            request_id, max_rss, detail = lambda_wire.split_meta(meta)
            environment.on_result(request_id, body, int(max_rss),
                                  detail if kind == lambda_wire.ERROR else None)
        elif kind == lambda_wire.READY:
            environment.on_ready()
        elif kind == lambda_wire.INIT_ERROR:
            environment.on_init_error(body)

    def send_invocation(self, invocation: Invocation, function_arn: str) -> None:
        """Write one INVOKE frame (see lambda_wire) to the environment.

        The body is the payload; the meta holds the request id, the deadline (epoch ms), the
        function ARN, the trace id, the client context and the Cognito identity.
        """
        assert self._transport is not None
        meta = "\n".join((invocation.request_id, str(invocation.deadline_ms), function_arn,
                          invocation.trace_id, invocation.client_context,
                          invocation.cognito_identity))
        self._transport.write(lambda_wire.frame(lambda_wire.INVOKE, meta, invocation.payload))

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    def close(self) -> None:
        """Close this end of the socket, if still open; the process sees end of file."""
        if self._transport is not None:
            self._transport.close()
