"""The local Lambda service: every trigger's one way to run a function (`Invoker`).

Per function a pool of execution environments (`environment.ExecutionEnvironment`):
an invocation takes an idle (warm) environment, or starts one (a cold start) while
the function has fewer than its concurrency limit, or else waits for one to free up.
The limit is the function's reserved concurrency when it has one (past it Lambda
throttles: `TooManyRequests`, HTTP 429), else a local default (`SHOP_LAMBDA_MAX_ENVIRONMENTS`,
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
from shop_local.runtime.lambda_settings import LambdaSettings
from shop_local.runtime.launchers import ExecLauncher, ForkLauncher, Launcher

log = logging.getLogger("shop.lambda")

MEMORY_POLL_SECONDS = 0.1
IDLE_SWEEP_SECONDS = 5.0
SHUTDOWN_SECONDS = 5.0
# Variables of the service's own process that must not leak into an environment.
PRIVATE_VARIABLES = ("SHOP_LAMBDA_SOCKET_FD", "AWS_LAMBDA_RUNTIME_API", "_HANDLER",
                     "LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_NAME")


@dataclass
class QueuedInvocation:
    """A synchronous invocation waiting for an environment of a function at its limit."""

    payload: bytes
    request_id: str
    future: asyncio.Future[InvocationResult]
    expiry: asyncio.TimerHandle | None = None


Waiter = asyncio.Future["ExecutionEnvironment | None"] | QueuedInvocation


class FunctionPool:
    """The execution environments of one function.

    Who waits for an environment waits in one first-come queue: a future (a caller of
    `acquire`, which gets the environment) or a `QueuedInvocation` (the gateway's path,
    which a released environment starts at once, with no task to wake up in between).
    """

    def __init__(self, spec: FunctionSpec, service: LambdaService) -> None:
        self.spec = spec
        self._service = service
        self.environments: set[ExecutionEnvironment] = set()
        self._idle: list[ExecutionEnvironment] = []  # most recently used last: reused first
        self._waiters: deque[Waiter] = deque()
        self.throttles = spec.reserved_concurrency is not None
        self.limit = (spec.reserved_concurrency if spec.reserved_concurrency is not None
                      else service.settings.max_environments)
        self.generation = 0
        self._generations: dict[ExecutionEnvironment, int] = {}

    def take_idle(self) -> ExecutionEnvironment | None:
        """A warm environment now, or None when none is idle."""
        while self._idle:
            environment = self._idle.pop()
            if environment.state == "idle":
                return environment
        return None

    async def acquire(self) -> ExecutionEnvironment:
        """An idle environment for one invocation; raises TooManyRequests or InitFailed."""
        while True:
            environment = self.take_idle()
            if environment is not None:
                return environment
            if len(self.environments) < self.limit:
                return await self._cold_start()
            if self.throttles:
                raise TooManyRequests(
                    f"Rate Exceeded. {self.spec.name} is at its reserved concurrency "
                    f"({self.limit})")
            found = await self._wait_for_environment()
            if found is not None:
                return found

    async def _wait_for_environment(self) -> ExecutionEnvironment | None:
        """The next environment released to this caller, or None when a slot freed up."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[ExecutionEnvironment | None] = loop.create_future()
        self._waiters.append(waiter)
        limit = lambda_limits.INIT_LIMIT_SECONDS + self.spec.timeout_seconds
        expiry = loop.call_later(limit, self._expire, waiter, limit)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                handed = waiter.result()
                if handed is not None:
                    self.release(handed)  # handed over to a caller that has gone
            raise
        finally:
            expiry.cancel()

    def _expire(self, waiter: asyncio.Future[ExecutionEnvironment | None], limit: float) -> None:
        if not waiter.done():
            waiter.set_exception(TooManyRequests(
                f"no environment of {self.spec.name} became free within {limit:.0f} s"))

    async def _cold_start(self) -> ExecutionEnvironment:
        environment = ExecutionEnvironment(self.spec, self._service.logs, self.release,
                                           self._dead)
        self.environments.add(environment)
        self._generations[environment] = self.generation
        try:
            await environment.start(self._service.base_environment, self._service.tmp_root,
                                    self._service.channel_factory,
                                    self._service.launcher_for(self.spec))
        except BaseException:
            environment.kill()
            self._dead(environment)
            raise
        try:
            await asyncio.shield(environment.ready)
        except asyncio.CancelledError:
            # The caller went away during the init phase: the environment joins the pool.
            environment.ready.add_done_callback(
                lambda ready: None if ready.exception() else self.release(environment))
            raise
        return environment

    def release(self, environment: ExecutionEnvironment) -> None:
        """An environment finished an invocation (or its init) and is idle again."""
        if environment.state != "idle":
            return
        if self._generations.get(environment) != self.generation:
            environment.kill()  # recycled: its code is out of date
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if isinstance(waiter, QueuedInvocation):
                if not waiter.future.done():
                    self._start_queued(waiter, environment)
                    return
            elif not waiter.done():
                waiter.set_result(environment)
                return
        self._idle.append(environment)

    def enqueue(self, payload: bytes, request_id: str) -> asyncio.Future[InvocationResult]:
        """Queue a synchronous invocation for the next environment released (the pool is at
        its limit and does not throttle); it fails with TooManyRequests if none frees up
        within the init limit plus the timeout, as `acquire` does."""
        loop = asyncio.get_running_loop()
        queued = QueuedInvocation(payload, request_id, loop.create_future())
        limit = lambda_limits.INIT_LIMIT_SECONDS + self.spec.timeout_seconds
        queued.expiry = loop.call_later(limit, self._expire_queued, queued, limit)
        self._waiters.append(queued)
        return queued.future

    def _start_queued(self, queued: QueuedInvocation,
                      environment: ExecutionEnvironment | None) -> None:
        """Run a queued invocation on `environment`, or on a new one (None: a slot freed)."""
        if queued.expiry is not None:
            queued.expiry.cancel()
        service = self._service
        if environment is not None:
            service.hand(self, environment, queued.payload, queued.request_id,
                         future=queued.future)
        else:
            service.run_queued(self, queued)

    def _expire_queued(self, queued: QueuedInvocation, limit: float) -> None:
        if not queued.future.done():
            queued.future.set_exception(TooManyRequests(
                f"no environment of {self.spec.name} became free within {limit:.0f} s"))

    def _dead(self, environment: ExecutionEnvironment) -> None:
        self.environments.discard(environment)
        self._generations.pop(environment, None)
        with contextlib.suppress(ValueError):
            self._idle.remove(environment)
        while self._waiters:  # a slot is free: the first waiter starts an environment
            waiter = self._waiters.popleft()
            if isinstance(waiter, QueuedInvocation):
                if not waiter.future.done():
                    self._start_queued(waiter, None)
                    return
            elif not waiter.done():
                waiter.set_result(None)
                return

    def recycle(self) -> None:
        """Retire every environment: idle ones now, busy ones after their invocation."""
        self.generation += 1
        for environment in list(self._idle):
            environment.kill()
        self._idle.clear()

    def sweep_idle(self, now: float, idle_seconds: int) -> None:
        if idle_seconds <= 0:
            return
        for environment in list(self._idle):
            if now - environment.idle_since > idle_seconds:
                self._idle.remove(environment)
                environment.kill()

    def kill_all(self) -> None:
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
        base = dict(os.environ if environment is None else environment)
        for name in PRIVATE_VARIABLES:
            base.pop(name, None)
        self.base_environment = base
        self.logs = LogWriter(self.settings.log_dir,
                              sys.stdout.buffer if echo == "stdout" else echo)
        self.tmp_root = Path(tempfile.mkdtemp(prefix="shop-lambda-"))
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
        return [pool.spec for pool in self._pools.values()]

    def function(self, name: str) -> FunctionSpec | None:
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
                        self._background(launcher.prepare())
        if self.settings.registry_dir is not None and self._published is None:
            await self._publish(self.settings.registry_dir)

    async def _publish(self, registry_dir: Path) -> None:
        """Serve the Invoke API on a free loopback port and register this process's functions.

        Only with the stack's Invoke API key: a registered port is reachable by anyone on
        the machine, so without a key nothing is published (logged) rather than served open.
        """
        from shop_local.runtime.invoke_api import InvokeApi, serve_in_background
        from shop_local.runtime.invoke_auth import InvokeAuth, InvokeCredentials

        credentials = InvokeCredentials.from_environ(self.base_environment)
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
            pool.kill_all()
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

    def _background(self, coroutine: Coroutine[Any, Any, object]) -> None:
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

        Returns None when its init succeeded, else Lambda's error document as text.
        Raises FunctionNotFound or TooManyRequests.
        """
        pool = self._pools.get(function_name)
        if pool is None:
            raise FunctionNotFound(f"Function not found: {function_arn(function_name)}")
        try:
            environment = await pool.acquire()
        except InitFailed as failed:
            return failed.document.decode(errors="replace")
        pool.release(environment)
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
        Raises FunctionNotFound, RequestTooLarge or TooManyRequests; a function that fails,
        times out or runs out of memory is a result with `function_error` set.
        """
        pool = self._pools.get(function_name)
        if pool is None:
            raise FunctionNotFound(f"Function not found: {function_arn(function_name)}")
        request_id = new_request_id()
        if invocation_type == "DryRun":
            return InvocationResult(b"", request_id=request_id)
        if invocation_type == "Event":
            if len(payload) > lambda_limits.ASYNC_PAYLOAD_LIMIT_BYTES:
                raise RequestTooLarge(
                    f"{len(payload)} byte payload is too large for the Event invocation type "
                    f"(limit {lambda_limits.ASYNC_PAYLOAD_LIMIT_BYTES} bytes)")
            self._background(self._run_async_invocation(pool, payload, request_id,
                                                         client_context))
            return InvocationResult(b"", request_id=request_id)
        if len(payload) > SYNC_PAYLOAD_LIMIT_BYTES:
            raise RequestTooLarge(
                f"{len(payload)} byte payload is too large for the RequestResponse invocation "
                f"type (limit {SYNC_PAYLOAD_LIMIT_BYTES} bytes)")
        return await self._run(pool, payload, request_id, log_tail, client_context)

    def submit(self, function_name: str, payload: bytes) -> asyncio.Future[InvocationResult]:
        """A `RequestResponse` invocation started now; the future settles as `invoke` returns
        or raises.

        The path the API Gateway front takes: when the function has a warm environment
        the invocation is handed to it at once, with no task and no coroutine in between
        (per request that is a task, four coroutines and a loop iteration less); otherwise
        it is `invoke` run as a task.
        """
        pool = self._pools.get(function_name)
        if pool is not None and len(payload) <= SYNC_PAYLOAD_LIMIT_BYTES:
            environment = pool.take_idle()
            if environment is not None:
                return self.hand(pool, environment, payload, new_request_id())
            if not pool.throttles and len(pool.environments) >= pool.limit:
                # Every environment is busy: the next one released starts this invocation.
                return pool.enqueue(payload, new_request_id())
        return asyncio.ensure_future(self.invoke(function_name, payload))

    def run_queued(self, pool: FunctionPool, queued: QueuedInvocation) -> None:
        """A queued invocation whose turn came with a free slot: cold-start for it."""

        async def run() -> None:
            try:
                result = await self._run(pool, queued.payload, queued.request_id, False, "")
            except InvokeError as exc:
                if not queued.future.done():
                    queued.future.set_exception(exc)
                return
            if not queued.future.done():
                queued.future.set_result(result)

        self._background(run())

    async def _run(self, pool: FunctionPool, payload: bytes, request_id: str, log_tail: bool,
                   client_context: str) -> InvocationResult:
        try:
            environment = await pool.acquire()
        except InitFailed as failed:
            return InvocationResult(failed.document, "Unhandled", request_id=request_id)
        return await self.hand(pool, environment, payload, request_id, log_tail, client_context)

    @staticmethod
    def hand(pool: FunctionPool, environment: ExecutionEnvironment, payload: bytes,
             request_id: str, log_tail: bool = False, client_context: str = "",
             future: asyncio.Future[InvocationResult] | None = None,
             ) -> asyncio.Future[InvocationResult]:
        """Give one invocation to an idle environment; the future (a new one unless given)
        settles with its result."""
        if future is None:
            future = asyncio.get_running_loop().create_future()
        invocation = Invocation(
            request_id=request_id, payload=payload,
            deadline_ms=int(time.time() * 1000) + pool.spec.timeout_seconds * 1000,
            future=future, trace_id=trace_id(), client_context=client_context,
            tail=bytearray() if log_tail else None,
        )
        environment.invoke(invocation)
        return future

    async def _run_async_invocation(self, pool: FunctionPool, payload: bytes, request_id: str,
                                    client_context: str) -> None:
        # Lambda's own queue for Event invocations; a failure is logged (Lambda would
        # retry twice and then send it to a failure destination, neither emulated).
        try:
            result = await self._run(pool, payload, request_id, False, client_context)
        except TooManyRequests as exc:
            log.warning("event invocation of %s dropped: %s", pool.spec.name, exc)
            return
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
