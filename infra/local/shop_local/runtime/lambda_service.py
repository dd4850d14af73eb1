"""The local Lambda service: every trigger's one way to run a function (`Invoker`).

Per function a pool of execution environments (`environment.ExecutionEnvironment`):
an invocation takes an idle (warm) environment, or starts one (a cold start) while
the function has fewer than its concurrency limit, or else waits for one to free up.
The limit is the function's reserved concurrency when it has one (past it Lambda
throttles a synchronous invocation: `TooManyRequests`, HTTP 429; an `Event` one waits,
as in Lambda's own event queue), else a local default (`SHOP_LAMBDA_MAX_ENVIRONMENTS`,
CPU count x 2) past which invocations queue instead: a local machine's limit, not
AWS's. Idle environments stay warm until `SHOP_LAMBDA_IDLE_SECONDS`.

Limits as Lambda's: the function's timeout (the environment is killed, the invocation
answers `Task timed out after N.NN seconds`, the next one gets a fresh environment),
its memory size (resident memory of the environment's processes polled every
`MEMORY_POLL_SECONDS` and checked against the peak the runtime reports with each
answer: past it the environment is killed, `Runtime exited with error: signal: killed`),
6 MB request and response payloads for synchronous invocations, 1 MB for `Event`.

Use from one asyncio event loop; `invoke_threadsafe` is the entry for other threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sys
import tempfile
import time
from collections import deque
from collections.abc import Coroutine, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from shop_local.probes import pid_alive
from shop_local.runtime import lambda_limits
from shop_local.runtime.catalog import AppCatalog, FunctionSpec, function_arn
from shop_local.runtime.environment import (
    ChannelFactory,
    ExecutionEnvironment,
    InitFailed,
    Invocation,
    SocketChannel,
    trace_id,
)
from shop_local.runtime.function_logs import LogWriter
from shop_local.runtime.ids import request_id as new_request_id
from shop_local.runtime.invocation import (
    SYNC_PAYLOAD_LIMIT_BYTES,
    FunctionNotFound,
    InvocationResult,
    InvocationType,
    InvokeError,
    RequestTooLarge,
    TooManyRequests,
)
from shop_local.runtime.lambda_registry import Registration, publish
from shop_local.runtime.lambda_settings import (
    ACCESS_KEY_VARIABLE,
    SECRET_KEY_VARIABLE,
    LambdaSettings,
)
from shop_local.runtime.launchers import ExecLauncher, ForkLauncher, Launcher

log = logging.getLogger("shop.lambda")

MEMORY_POLL_SECONDS = 0.1
IDLE_SWEEP_SECONDS = 5.0
SHUTDOWN_SECONDS = 5.0
# Variables of the service's own process that must not leak into an environment.
# The Invoke API's access key is the service's alone: a function that could read it
# could invoke any other function of the stack.
PRIVATE_VARIABLES = ("SHOP_LAMBDA_SOCKET_FD", "AWS_LAMBDA_RUNTIME_API", "_HANDLER",
                     "LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_NAME",
                     ACCESS_KEY_VARIABLE, SECRET_KEY_VARIABLE)
# Lambda keeps a throttled asynchronous event and retries it for up to 6 hours by
# default (its maximum event age):
# https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
MAX_EVENT_AGE_SECONDS = 6 * 3600.0


TMP_ROOT_PREFIX = "shop-lambda-"


_swept_tmp_roots = False


def _remove_stale_tmp_roots_once() -> None:
    """`remove_stale_tmp_roots` on the first Lambda service of this process only: a reload
    or a second service would scan the temporary folder again for nothing new.
    """
    global _swept_tmp_roots
    if not _swept_tmp_roots:
        _swept_tmp_roots = True
        remove_stale_tmp_roots()


def remove_stale_tmp_roots(parent: Path | None = None) -> list[Path]:
    """Remove the environments' temporary folders (`shop-lambda-<pid>-*` under `parent`,
    default the system's temporary folder) of Lambda services whose process is gone, as a
    killed one leaves them; return those removed. A folder of a live process is kept.
    """
    removed = []
    for folder in (parent or Path(tempfile.gettempdir())).glob(f"{TMP_ROOT_PREFIX}*-*"):
        pid_text = folder.name.removeprefix(TMP_ROOT_PREFIX).split("-", 1)[0]
        if not pid_text.isdigit() or pid_alive(int(pid_text)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


class ServiceClosing(InvokeError):
    """The Lambda service is shutting down: no invocation starts any more (HTTP 500)."""


@dataclass
class PendingInvocation:
    """An invocation with no environment yet: waiting in its function's queue, or for
    the environment cold-started for it. `future` settles as `LambdaService.invoke`
    returns or raises."""

    payload: bytes
    request_id: str
    future: asyncio.Future[InvocationResult]
    log_tail: bool = False
    client_context: str = ""
    expiry: asyncio.TimerHandle | None = None


class FunctionPool:
    """The execution environments of one function, and its invocations waiting for one.

    Every invocation enters through `start` and waits, if it must, in one first-come
    queue. An environment that finishes an invocation starts the first in line at once
    (no task to wake in between); one that dies hands its slot to the first in line,
    whose cold start begins there and then, so no later caller takes the slot.
    """

    def __init__(self, spec: FunctionSpec, service: LambdaService) -> None:
        self.spec = spec
        self._service = service
        self.environments: set[ExecutionEnvironment] = set()
        self._idle: list[ExecutionEnvironment] = []  # most recently used last: reused first
        self._queue: deque[PendingInvocation] = deque()
        self.throttles = spec.reserved_concurrency is not None
        self.limit = (spec.reserved_concurrency if spec.reserved_concurrency is not None
                      else service.settings.max_environments)
        self.generation = 0
        self._generations: dict[ExecutionEnvironment, int] = {}
        self.closed = False

    def take_idle(self) -> ExecutionEnvironment | None:
        """A warm environment now, or None when none is idle."""
        while self._idle:
            environment = self._idle.pop()
            if environment.state == "idle":
                return environment
        return None

    def start(self, future: asyncio.Future[InvocationResult], payload: bytes,
              request_id: str, log_tail: bool = False, client_context: str = "", *,
              event: bool = False) -> None:
        """Start one invocation: on a warm environment now, else on a cold-started one
        while the function is below its limit, else after those waiting before it.

        `future` settles with the result. At the limit a synchronous invocation of a
        function with reserved concurrency raises TooManyRequests (Lambda's 429); any
        other waits, and fails with TooManyRequests if it has not started within the
        init limit plus the timeout (an `event`: within Lambda's maximum event age).
        Raises ServiceClosing once the service is closing.
        """
        if self.closed:
            raise ServiceClosing(f"the Lambda service is shutting down: {self.spec.name} "
                                 "starts no invocation")
        environment = self.take_idle()
        if environment is not None:
            self._hand(environment, future, payload, request_id, log_tail, client_context)
            return
        pending = PendingInvocation(payload, request_id, future, log_tail, client_context)
        if len(self.environments) < self.limit:
            self._cold_start_for(pending)
        elif self.throttles and not event:
            raise TooManyRequests(
                f"Rate Exceeded. {self.spec.name} is at its reserved concurrency "
                f"({self.limit})")
        else:
            limit = (MAX_EVENT_AGE_SECONDS if event
                     else lambda_limits.INIT_LIMIT_SECONDS + self.spec.timeout_seconds)
            pending.expiry = asyncio.get_running_loop().call_later(
                limit, self._expire, pending, limit)
            self._queue.append(pending)

    def _hand(self, environment: ExecutionEnvironment,
              future: asyncio.Future[InvocationResult], payload: bytes, request_id: str,
              log_tail: bool, client_context: str) -> None:
        environment.invoke(Invocation(
            request_id=request_id, payload=payload,
            deadline_ms=int(time.time() * 1000) + self.spec.timeout_seconds * 1000,
            future=future, trace_id=trace_id(), client_context=client_context,
            tail=bytearray() if log_tail else None,
        ))

    def _hand_pending(self, environment: ExecutionEnvironment,
                      pending: PendingInvocation) -> None:
        self._hand(environment, pending.future, pending.payload, pending.request_id,
                   pending.log_tail, pending.client_context)

    def _expire(self, pending: PendingInvocation, limit: float) -> None:
        if not pending.future.done():
            pending.future.set_exception(TooManyRequests(
                f"no environment of {self.spec.name} became free within {limit:.0f} s"))

    def _next_pending(self) -> PendingInvocation | None:
        """The first in line whose caller still waits (expired or cancelled ones leave)."""
        while self._queue:
            pending = self._queue.popleft()
            if not pending.future.done():
                if pending.expiry is not None:
                    pending.expiry.cancel()
                return pending
        return None

    # --- environments coming and going ------------------------------------------------

    def new_environment(self) -> ExecutionEnvironment:
        """A new environment counted against the limit at once (its process not yet started)."""
        environment = ExecutionEnvironment(self.spec, self._service.logs, self.release,
                                           self._dead)
        self.environments.add(environment)
        self._generations[environment] = self.generation
        return environment

    async def boot(self, environment: ExecutionEnvironment) -> None:
        """Start the environment's process and wait for its init to end (then it is idle
        and the caller's to use or `release`).

        Raises InitFailed (the environment is dead) or what starting the process raised.
        A caller cancelled during the init leaves the environment to the pool.
        """
        try:
            await environment.start(self._service.base_environment, self._service.tmp_root,
                                    self._service.channel_factory,
                                    self._service.launcher_for(self.spec))
        except BaseException:
            environment.kill()
            self._dead(environment)
            raise
        if self.closed:
            environment.kill()  # the service closed while the process started
        try:
            await asyncio.shield(environment.ready)
        except asyncio.CancelledError:
            environment.ready.add_done_callback(
                lambda ready: None if ready.exception() else self.release(environment))
            raise

    def _cold_start_for(self, pending: PendingInvocation) -> None:
        environment = self.new_environment()  # the slot is this invocation's from now
        self._service.background(self._run_cold(environment, pending))

    async def _run_cold(self, environment: ExecutionEnvironment,
                        pending: PendingInvocation) -> None:
        future = pending.future
        try:
            await self.boot(environment)
        except InitFailed as failed:
            if self.closed and not future.done():
                future.set_exception(ServiceClosing(
                    f"the Lambda service shut down while {self.spec.name} started"))
            elif not future.done():
                future.set_result(InvocationResult(failed.document, "Unhandled",
                                                   request_id=pending.request_id))
            return
        except Exception as exc:  # the process could not be started: the caller hears why
            if not future.done():
                future.set_exception(exc)
            return
        if future.done() or environment.state != "idle":
            # Its caller has gone (the environment serves the next in line), or the
            # environment died right after its init (its slot went to the next in line).
            if environment.state != "idle" and not future.done():
                future.set_result(InvocationResult(
                    lambda_limits.runtime_exited(pending.request_id, environment.returncode),
                    "Unhandled", request_id=pending.request_id))
            self.release(environment)
            return
        self._hand_pending(environment, pending)

    def release(self, environment: ExecutionEnvironment) -> None:
        """An environment finished an invocation (or an init nobody waits for) and is idle:
        it starts the first invocation in line, or waits warm."""
        if environment.state != "idle":
            return
        if self.closed or self._generations.get(environment) != self.generation:
            environment.kill()  # recycled (its code is out of date) or shutting down
            return
        pending = self._next_pending()
        if pending is not None:
            self._hand_pending(environment, pending)
            return
        self._idle.append(environment)

    def _dead(self, environment: ExecutionEnvironment) -> None:
        if environment not in self.environments:
            return  # reported twice (a start that failed, then the process's exit)
        self.environments.discard(environment)
        self._generations.pop(environment, None)
        with contextlib.suppress(ValueError):
            self._idle.remove(environment)
        if not self.closed and len(self.environments) < self.limit:
            pending = self._next_pending()
            if pending is not None:  # the freed slot is the first in line's
                self._cold_start_for(pending)

    def recycle(self) -> None:
        """Retire every environment: idle ones now, busy ones after their invocation."""
        self.generation += 1
        for environment in list(self._idle):
            environment.kill()
        self._idle.clear()

    def sweep_idle(self, now: float, idle_seconds: int) -> None:
        """Stop the environments idle for more than `idle_seconds` at monotonic time `now`
        (seconds); 0 or less keeps them all, as Lambda keeps none for a fixed time."""
        if idle_seconds <= 0:
            return
        for environment in list(self._idle):
            if now - environment.idle_since > idle_seconds:
                self._idle.remove(environment)
                environment.kill()

    def close(self) -> None:
        """Start nothing more, fail every waiting invocation, kill every environment."""
        self.closed = True
        while (pending := self._next_pending()) is not None:
            pending.future.set_exception(ServiceClosing(
                f"the Lambda service shut down before {self.spec.name} could run it"))
        for environment in list(self.environments):
            environment.kill()


class LambdaService:
    """Runs the functions of one or more catalogs (see the module doc).

    `environment` is what every execution environment inherits before the function's
    own and Lambda's standard variables (default: this process's environment, the
    local stack's settings); `echo` also receives every function log line (default:
    this process's standard output, so a runtime process's log shows its functions'
    output; None: only the log files).
    """

    def __init__(self, catalogs: Iterable[AppCatalog], settings: LambdaSettings | None = None,
                 environment: Mapping[str, str] | None = None,
                 echo: BinaryIO | Literal["stdout"] | None = "stdout") -> None:
        self.settings = settings or LambdaSettings.from_environ()
        self.catalogs = list(catalogs)
        own = dict(os.environ if environment is None else environment)
        # The Invoke API key is read from here: the service's own, not its functions'.
        self._invoke_credentials_source = own
        self.base_environment = {name: value for name, value in own.items()
                                 if name not in PRIVATE_VARIABLES}
        self.logs = LogWriter(self.settings.log_dir,
                              sys.stdout.buffer if echo == "stdout" else echo)
        _remove_stale_tmp_roots_once()
        self.tmp_root = Path(tempfile.mkdtemp(prefix=f"{TMP_ROOT_PREFIX}{os.getpid()}-"))
        self._pools: dict[str, FunctionPool] = {}
        for catalog in self.catalogs:
            for spec in catalog.functions:
                self._pools[spec.name] = FunctionPool(spec, self)
        self.channel_factory: ChannelFactory = SocketChannel.create
        self._exec_launcher = ExecLauncher()
        self._fork_launchers: dict[str, ForkLauncher] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[object]] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._published: tuple[Any, asyncio.Task[None], Registration] | None = None

    # --- what exists ----------------------------------------------------------------

    def functions(self) -> list[FunctionSpec]:
        """Every registered function, in registration order."""
        return [pool.spec for pool in self._pools.values()]

    def function(self, name: str) -> FunctionSpec | None:
        """The registered function called `name`, or None."""
        pool = self._pools.get(name)
        return pool.spec if pool else None

    def environments(self, name: str) -> list[ExecutionEnvironment]:
        """The live environments of a function (for status and tests)."""
        pool = self._pools.get(name)
        return sorted(pool.environments, key=lambda e: e.pid) if pool else []

    def launcher_for(self, spec: FunctionSpec) -> Launcher:
        """Fork from the app's template (socket transport, `fork` start) or exec afresh."""
        if self.settings.start_mode != "fork" or self.settings.transport != "socket":
            return self._exec_launcher
        launcher = self._fork_launchers.get(spec.code_dir)
        if launcher is None:
            catalog = next(c for c in self.catalogs if spec in c.functions)
            shared = dict.fromkeys(catalog.functions[0].environment.items())
            for other in catalog.functions[1:]:
                shared = {item: None for item in shared if item in other.environment.items()}
            environment = {**self.base_environment, **dict(list(shared)), "TZ": ":UTC",
                           "LAMBDA_TASK_ROOT": spec.code_dir,
                           "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}"}
            launcher = self._fork_launchers[spec.code_dir] = ForkLauncher(
                spec.code_dir, spec.handler, environment)
        return launcher

    # --- life cycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Start the memory and idle watcher; call once, in the loop that will invoke."""
        self._loop = asyncio.get_running_loop()
        if self.settings.transport == "http":
            from shop_local.runtime.runtime_api import RuntimeApiChannel

            self.channel_factory = RuntimeApiChannel.create
        if self._watcher is None:
            self._watcher = self._loop.create_task(self._watch())
            for catalog in self.catalogs:  # templates import while nothing waits on them
                if catalog.functions:
                    launcher = self.launcher_for(catalog.functions[0])
                    if isinstance(launcher, ForkLauncher):
                        self.background(launcher.prepare())
        if self.settings.registry_dir is not None and self._published is None:
            await self._publish(self.settings.registry_dir)

    async def _publish(self, registry_dir: Path) -> None:
        """Serve the Invoke API on a free loopback port and register this process's functions.

        Only with the stack's Invoke API key: a registered port is reachable by anyone on
        the machine, so without a key nothing is published (logged) rather than served open.
        """
        from shop_local.runtime.invoke_api import InvokeApi, serve_in_background
        from shop_local.runtime.invoke_auth import InvokeAuth, InvokeCredentials

        credentials = InvokeCredentials.from_environ(self._invoke_credentials_source)
        if credentials is None:
            log.error("not registering this process's functions in %s: the Invoke API key "
                      "is not set, and a registered port must not answer strangers",
                      registry_dir)
            return
        server, task, port = await serve_in_background(
            InvokeApi(self, InvokeAuth(credentials)), "127.0.0.1", 0)
        registration = publish(registry_dir, f"http://127.0.0.1:{port}",
                               [spec.name for spec in self.functions()])
        self._published = (server, task, registration)

    async def close(self) -> None:
        """Stop every environment and wait (briefly) for them to exit."""
        if self._published is not None:
            server, task, registration = self._published
            registration.remove()
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError, SystemExit):
                await task
            self._published = None
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        for pool in self._pools.values():
            pool.close()
        deadline = time.monotonic() + SHUTDOWN_SECONDS
        while any(p.environments for p in self._pools.values()) and (
                time.monotonic() < deadline):
            await asyncio.sleep(0.02)
        for launcher in self._fork_launchers.values():
            await launcher.close()
        self._fork_launchers.clear()
        self.logs.close()
        shutil.rmtree(self.tmp_root, ignore_errors=True)

    def recycle(self, names: Iterable[str] | None = None) -> None:
        """Retire the environments of these functions (default: all), e.g. after a code
        change: the next invocation of each cold-starts on the new code."""
        for name in (self._pools if names is None else names):
            pool = self._pools.get(name)
            if pool is not None:
                pool.recycle()

    def background(self, coroutine: Coroutine[Any, Any, object]) -> None:
        """Run `coroutine` as a task held here until it ends (the loop holds tasks weakly)."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watch(self) -> None:
        last_sweep = time.monotonic()
        while True:
            await asyncio.sleep(MEMORY_POLL_SECONDS)
            for pool in self._pools.values():
                for environment in list(pool.environments):
                    if environment.state in ("busy", "starting"):
                        environment.check_memory()
            now = time.monotonic()
            if now - last_sweep > IDLE_SWEEP_SECONDS:
                last_sweep = now
                for pool in self._pools.values():
                    pool.sweep_idle(now, self.settings.idle_seconds)

    async def start_environment(self, function_name: str) -> str | None:
        """Cold-start one environment of the function (init only) and keep it warm.

        Returns None when its init succeeded, or when the function already has all the
        environments it may have (its local cap); else Lambda's error document as text.
        Raises FunctionNotFound, TooManyRequests (at its reserved concurrency) or
        ServiceClosing.
        """
        pool = self._pools.get(function_name)
        if pool is None:
            raise FunctionNotFound(f"Function not found: {function_arn(function_name)}")
        if pool.closed:
            raise ServiceClosing("the Lambda service is shutting down")
        if len(pool.environments) >= pool.limit:
            if pool.throttles:
                raise TooManyRequests(f"Rate Exceeded. {function_name} is at its reserved "
                                      f"concurrency ({pool.limit})")
            return None
        environment = pool.new_environment()
        try:
            await pool.boot(environment)
        except InitFailed as failed:
            return failed.document.decode(errors="replace")
        pool.release(environment)  # the first invocation in line, if any, is its first
        return None

    # --- invoking -------------------------------------------------------------------

    async def invoke(self, function_name: str, payload: bytes,
                     invocation_type: InvocationType = "RequestResponse", *,
                     log_tail: bool = False, client_context: str = "") -> InvocationResult:
        """Run `function_name` with `payload` (the event, JSON bytes).

        `RequestResponse` waits for the result; `Event` queues the invocation and answers
        at once (empty payload); `DryRun` only checks that the function exists.
        `log_tail` fills the result's `log_tail` (the invocation's last 4 KB of log).
        `client_context` is the base64-decoded JSON Lambda hands to `context.client_context`.
        Raises FunctionNotFound, RequestTooLarge, TooManyRequests (see `FunctionPool.start`;
        never for `Event`) or ServiceClosing; a function that fails, times out or runs out
        of memory, or whose environment's init fails, is a result with `function_error` set.
        """
        pool = self._pools.get(function_name)
        if pool is None:
            raise FunctionNotFound(f"Function not found: {function_arn(function_name)}")
        request_id = new_request_id()
        if invocation_type == "DryRun":
            return InvocationResult(b"", request_id=request_id)
        future: asyncio.Future[InvocationResult] = asyncio.get_running_loop().create_future()
        if invocation_type == "Event":
            if len(payload) > lambda_limits.ASYNC_PAYLOAD_LIMIT_BYTES:
                raise RequestTooLarge(
                    f"{len(payload)} byte payload is too large for the Event invocation type "
                    f"(limit {lambda_limits.ASYNC_PAYLOAD_LIMIT_BYTES} bytes)")
            # Lambda's own queue for Event invocations: past the function's limit the
            # event waits rather than being throttled. A failure is logged (Lambda would
            # retry twice and then send it to a failure destination, neither emulated).
            pool.start(future, payload, request_id, client_context=client_context,
                       event=True)
            future.add_done_callback(lambda done: self._event_done(pool, request_id, done))
            return InvocationResult(b"", request_id=request_id)
        if len(payload) > SYNC_PAYLOAD_LIMIT_BYTES:
            raise RequestTooLarge(
                f"{len(payload)} byte payload is too large for the RequestResponse invocation "
                f"type (limit {SYNC_PAYLOAD_LIMIT_BYTES} bytes)")
        pool.start(future, payload, request_id, log_tail, client_context)
        return await future

    def submit(self, function_name: str, payload: bytes) -> asyncio.Future[InvocationResult]:
        """A `RequestResponse` invocation started now; the future settles as `invoke` returns
        or raises.

        The path the API Gateway front takes: `invoke`'s, without a task or coroutine
        of its own (per request that is a task, a coroutine and a loop iteration less);
        a warm environment gets the invocation before this returns.
        """
        pool = self._pools.get(function_name)
        if pool is None or len(payload) > SYNC_PAYLOAD_LIMIT_BYTES:
            return asyncio.ensure_future(self.invoke(function_name, payload))  # it raises
        future: asyncio.Future[InvocationResult] = asyncio.get_running_loop().create_future()
        try:
            pool.start(future, payload, new_request_id())
        except InvokeError as refused:
            future.set_exception(refused)
        return future

    @staticmethod
    def _event_done(pool: FunctionPool, request_id: str,
                    done: asyncio.Future[InvocationResult]) -> None:
        if done.cancelled():
            return
        refused = done.exception()
        if refused is not None:
            log.warning("event invocation %s of %s dropped: %s", request_id, pool.spec.name,
                        refused)
            return
        result = done.result()
        if result.function_error:
            log.warning("event invocation %s of %s failed: %s", request_id, pool.spec.name,
                        result.payload[:500].decode(errors="replace"))

    def invoke_threadsafe(self, function_name: str, payload: bytes,
                          invocation_type: InvocationType = "RequestResponse",
                          timeout: float | None = None) -> InvocationResult:
        """`invoke` from another thread (the MQ consumers), blocking until it answers."""
        if self._loop is None:
            raise RuntimeError("the Lambda service is not started")
        future = asyncio.run_coroutine_threadsafe(
            self.invoke(function_name, payload, invocation_type), self._loop)
        return future.result(timeout)
