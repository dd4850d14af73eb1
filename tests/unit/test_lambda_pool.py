"""The Lambda service's per-function queue and limits, with stand-in environments.

The environments here are fakes (no process): a test decides when an init ends, an
invocation answers or an environment dies, so the order of events is exact.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from shop_local.runtime import lambda_service
from shop_local.runtime.catalog import AppCatalog, FunctionSpec
from shop_local.runtime.environment import InitFailed, Invocation
from shop_local.runtime.invocation import InvocationResult, InvokeError, TooManyRequests
from shop_local.runtime.lambda_service import LambdaService
from shop_local.runtime.lambda_settings import LambdaSettings

pytestmark = pytest.mark.timeout(30)

SETTLE = 0.5  # seconds; every fake event is a loop iteration or two away


class FakeEnvironment:
    """An execution environment without a process: init ends on the next loop iteration
    (or start raises, when `fail_start` is set); invocations end when a test says so."""

    made: list[FakeEnvironment] = []
    fail_start: BaseException | None = None
    fail_init = False
    _pids = itertools.count(1000)

    def __init__(self, spec: FunctionSpec, logs: object,
                 on_idle: Callable[[Any], None], on_dead: Callable[[Any], None]) -> None:
        self.spec = spec
        self.state = "starting"
        self.pid = next(self._pids)
        self.idle_since = 0.0
        self.init_duration_ms: float | None = None
        self.current: Invocation | None = None
        self.served: list[bytes] = []
        self._on_idle, self._on_dead = on_idle, on_dead
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        FakeEnvironment.made.append(self)

    async def start(self, *_: object) -> None:
        if FakeEnvironment.fail_start is not None:
            raise FakeEnvironment.fail_start
        asyncio.get_running_loop().call_soon(self._init_done)

    def _init_done(self) -> None:
        if FakeEnvironment.fail_init:
            self.die()
        elif self.state == "starting":
            self.state = "idle"
            self.ready.set_result(None)

    def invoke(self, invocation: Invocation) -> None:
        assert self.state == "idle"
        self.state, self.current = "busy", invocation
        self.served.append(invocation.payload)

    def answer(self) -> None:
        invocation, self.current = self.current, None
        assert invocation is not None
        invocation.future.set_result(InvocationResult(invocation.payload,
                                                      request_id=invocation.request_id))
        self.state = "idle"
        self._on_idle(self)

    def kill(self) -> None:
        if self.state != "dead":
            asyncio.get_running_loop().call_soon(self.die)

    def die(self) -> None:
        if self.state == "dead":
            return
        self.state = "dead"
        invocation, self.current = self.current, None
        if invocation is not None and not invocation.future.done():
            invocation.future.set_result(InvocationResult(b"{}", "Unhandled"))
        if not self.ready.done():
            self.ready.set_exception(InitFailed(b'{"errorType": "Runtime.ExitError"}'))
            self.ready.exception()
        self._on_dead(self)

    def check_memory(self) -> None:
        pass


@pytest.fixture(autouse=True)
def fake_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lambda_service, "ExecutionEnvironment", FakeEnvironment)
    FakeEnvironment.made = []
    FakeEnvironment.fail_start = None
    FakeEnvironment.fail_init = False


def run(tmp_path: Path, body: Callable[[LambdaService], Awaitable[None]],
        max_environments: int = 1) -> None:
    catalog = AppCatalog("fake", "dev", str(tmp_path), [
        FunctionSpec("fn", "app.fn", str(tmp_path), timeout_seconds=3),
        FunctionSpec("limited", "app.limited", str(tmp_path), timeout_seconds=3,
                     reserved_concurrency=1),
    ])

    async def main() -> None:
        service = LambdaService([catalog], LambdaSettings(
            log_dir=tmp_path / "logs", start_mode="exec", max_environments=max_environments),
            environment={}, echo=None)
        try:
            await body(service)
        finally:
            await service.close()

    asyncio.run(main())


async def busy_environment(service: LambdaService, name: str = "fn"
                           ) -> tuple[FakeEnvironment, asyncio.Future[InvocationResult]]:
    first = service.submit(name, b'"first"')
    for _ in range(10):
        await asyncio.sleep(0)
    (environment,) = FakeEnvironment.made
    assert environment.state == "busy"
    return environment, first


def test_a_waiter_whose_caller_left_passes_the_freed_slot_to_the_next(tmp_path: Path) -> None:
    async def body(service: LambdaService) -> None:
        busy, first = await busy_environment(service)
        leaving = asyncio.ensure_future(service.invoke("fn", b'"leaving"'))
        staying = asyncio.ensure_future(service.invoke("fn", b'"staying"'))
        await asyncio.sleep(0.05)  # both wait in the queue
        busy.die()  # the slot is free: the first in line is due
        leaving.cancel()  # ... but its caller has gone
        await asyncio.sleep(0.05)
        started = [e for e in FakeEnvironment.made if e.current is not None]
        assert [e.current.payload for e in started if e.current] == [b'"staying"']
        started[0].answer()
        assert (await asyncio.wait_for(staying, SETTLE)).payload == b'"staying"'
        assert (await first).function_error == "Unhandled"

    run(tmp_path, body)


def test_a_queued_gateway_invocation_fails_when_its_environment_cannot_start(
        tmp_path: Path) -> None:
    async def body(service: LambdaService) -> None:
        busy, _ = await busy_environment(service)
        queued = service.submit("fn", b'"queued"')
        await asyncio.sleep(0.05)
        FakeEnvironment.fail_start = OSError("no process for you")
        busy.die()  # its slot goes to the queued one, whose cold start fails
        with pytest.raises(OSError, match="no process for you"):
            await asyncio.wait_for(queued, SETTLE)
        assert service.environments("fn") == []

    run(tmp_path, body)


def test_a_throttled_event_invocation_waits_for_the_function_and_runs(tmp_path: Path) -> None:
    # Lambda returns a throttled asynchronous event to its queue and retries it
    # (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html);
    # a synchronous one is refused (429).
    async def body(service: LambdaService) -> None:
        busy, first = await busy_environment(service, "limited")
        with pytest.raises(TooManyRequests):
            await service.invoke("limited", b'"sync"')
        accepted = await service.invoke("limited", b'"event"', "Event")
        assert accepted.payload == b""
        await asyncio.sleep(0.05)  # the event has found the function at its limit
        busy.answer()
        await asyncio.sleep(0.05)
        assert busy.served == [b'"first"', b'"event"']
        assert (await first).payload == b'"first"'

    run(tmp_path, body)


def test_close_fails_the_waiting_invocations_and_starts_no_environment(tmp_path: Path) -> None:
    async def body(service: LambdaService) -> None:
        _, first = await busy_environment(service)
        waiting = [service.submit("fn", b'"gateway"'),
                   asyncio.ensure_future(service.invoke("fn", b'"invoke"'))]
        await asyncio.sleep(0.05)
        await asyncio.wait_for(service.close(), SETTLE)
        for future in waiting:
            with pytest.raises(InvokeError):
                await asyncio.wait_for(future, SETTLE)
        assert len(FakeEnvironment.made) == 1  # no cold start for a closing service
        assert (await first).function_error == "Unhandled"  # killed with the service
        with pytest.raises(InvokeError):
            await service.invoke("fn", b'"late"')

    run(tmp_path, body)


def test_waiting_invocations_run_first_come_and_never_past_the_limit(tmp_path: Path) -> None:
    async def body(service: LambdaService) -> None:
        calls: list[asyncio.Future[InvocationResult]] = []
        for n in range(8):  # the gateway's path and invoke's, one after the other
            payload = f'"{n}"'.encode()
            calls.append(service.submit("fn", payload) if n % 2
                         else asyncio.ensure_future(service.invoke("fn", payload)))
            await asyncio.sleep(0.01)
        served: list[bytes] = []
        while len(served) < 8:
            await asyncio.sleep(0.01)
            live = [e for e in FakeEnvironment.made if e.state != "dead"]
            assert len(live) <= 2
            for environment in live:
                if environment.current is not None:
                    served.append(environment.current.payload)
                    environment.answer()
        assert served == [f'"{n}"'.encode() for n in range(8)]
        assert [r.payload for r in await asyncio.gather(*calls)] == served
        assert len(FakeEnvironment.made) == 2

    run(tmp_path, body, max_environments=2)


def test_an_init_that_fails_answers_each_waiting_invocation_with_its_error(
        tmp_path: Path) -> None:
    async def body(service: LambdaService) -> None:
        busy, _ = await busy_environment(service)
        waiting = [service.submit("fn", b'"a"'),
                   asyncio.ensure_future(service.invoke("fn", b'"b"'))]
        await asyncio.sleep(0.05)
        FakeEnvironment.fail_init = True
        busy.die()  # each in line gets a cold start of its own, and its init fails
        results = await asyncio.wait_for(asyncio.gather(*waiting), SETTLE)
        assert [r.function_error for r in results] == ["Unhandled", "Unhandled"]
        assert b"Runtime.ExitError" in results[0].payload
        assert service.environments("fn") == []

    run(tmp_path, body)


def test_start_environment_keeps_one_warm_and_respects_the_limits(tmp_path: Path) -> None:
    async def body(service: LambdaService) -> None:
        assert await service.start_environment("fn") is None
        (warm,) = FakeEnvironment.made
        assert warm.state == "idle"
        assert await service.start_environment("fn") is None  # at the cap: nothing to start
        assert len(FakeEnvironment.made) == 1
        assert (await service.invoke("fn", b'"x"', "Event")).payload == b""
        assert warm.served == [b'"x"']  # the warm one took it, no cold start
        with pytest.raises(TooManyRequests):
            await asyncio.gather(service.start_environment("limited"),
                                 service.start_environment("limited"))

    run(tmp_path, body)
