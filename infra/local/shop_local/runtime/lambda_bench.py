"""A benchmark hook for the Lambda service alone: invocations per second per transport, cold starts.

    python -m shop_local.runtime.lambda_bench [PROJECT] [--function NAME] [--seconds 5]
        [--concurrency 1,16] [--transports socket,http] [--start fork] [--json]

Invokes one function of a Chalice project (default: a built-in trivial function) through
`LambdaService.invoke` directly (no HTTP front), for each transport and concurrency,
and cold-starts it a few times to report `Init Duration`. Besides the rates it reports
the CPU time the service process and its environments spent per invocation, which a
busy machine disturbs less than wall-clock rates. `make bench` can call `measure()`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from shop_local.runtime.catalog import AppCatalog, load_catalog
from shop_local.runtime.lambda_service import LambdaService
from shop_local.runtime.lambda_settings import LambdaSettings

TRIVIAL_APP = '''
from chalice.app import Chalice
app = Chalice(app_name="bench-trivial")

@app.lambda_function(name="echo")
def echo(event, context):
    return event
'''
TRIVIAL_CONFIG = '{"version": "2.0", "app_name": "bench-trivial", "stages": {"dev": {}}}'
COLD_STARTS = 3


@dataclass(frozen=True)
class Rate:
    """Invocations per second at one concurrency over one transport.

    `cpu_us_per_invocation`: the CPU time each invocation cost, in microseconds, of the
    service process and its environments together.
    """

    transport: str
    concurrency: int
    invocations_per_second: float
    cpu_us_per_invocation: float


@dataclass(frozen=True)
class Result:
    """One benchmark run: function, start mode, rates, and each cold start's Init Duration (ms)."""

    function: str
    start_mode: str
    rates: list[Rate]
    init_duration_ms: list[float]


def trivial_project(folder: Path) -> Path:
    """Write a one-function Chalice project into `folder` and return `folder`.

    Its function `echo` returns its event. Raises OSError when it cannot be written.
    """
    (folder / ".chalice").mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(TRIVIAL_APP)
    (folder / ".chalice" / "config.json").write_text(TRIVIAL_CONFIG)
    return folder


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


async def _rate(service: LambdaService, function: str, concurrency: int, seconds: float,
                transport: str) -> Rate:
    payload = b'{"bench": true}'
    for _ in range(concurrency):  # warm: one environment per concurrent caller
        await asyncio.gather(*(service.invoke(function, payload) for _ in range(concurrency)))
    pids = [os.getpid(), *(e.pid for e in service.environments(function))]
    done = 0
    deadline = time.perf_counter() + seconds

    async def caller() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await service.invoke(function, payload)
            done += 1

    cpu_before, started = _cpu_seconds(pids), time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    elapsed, cpu = time.perf_counter() - started, _cpu_seconds(pids) - cpu_before
    return Rate(transport, concurrency, done / elapsed, cpu / max(done, 1) * 1e6)


async def _measure(catalog: AppCatalog, function: str, transports: list[str],
                   concurrencies: list[int], seconds: float, start_mode: str,
                   log_dir: Path) -> Result:
    rates: list[Rate] = []
    init: list[float] = []
    for transport in transports:
        settings = LambdaSettings(log_dir=log_dir, transport=transport, start_mode=start_mode,
                                  max_environments=max(concurrencies))
        service = LambdaService([catalog], settings, echo=None)
        await service.start()
        try:
            if transport == transports[0]:
                await asyncio.sleep(2)  # a fork template imports before the cold starts
                for _ in range(COLD_STARTS):
                    await service.start_environment(function)
                    init += [e.init_duration_ms for e in service.environments(function)
                             if e.init_duration_ms is not None]
                    service.recycle([function])
                    await asyncio.sleep(0.3)
            for concurrency in concurrencies:
                rates.append(await _rate(service, function, concurrency, seconds, transport))
        finally:
            await service.close()
    return Result(function, start_mode, rates, init)


def measure(project: Path | None = None, function: str | None = None, seconds: float = 5,
            concurrencies: tuple[int, ...] = (1, 16),
            transports: tuple[str, ...] = ("socket", "http"), start_mode: str = "fork",
            stage: str = "dev") -> Result:
    """Run the benchmark (see the module doc); `project` None: the built-in trivial function."""
    with tempfile.TemporaryDirectory(prefix="lambda-bench-") as scratch:
        folder = project or trivial_project(Path(scratch) / "app")
        catalog = load_catalog(folder, stage)
        name = function or catalog.functions[0].name
        if catalog.function(name) is None:
            name = next((f.name for f in catalog.functions if f.resource_name == name), name)
        return asyncio.run(_measure(catalog, name, list(transports), list(concurrencies),
                                    seconds, start_mode, Path(scratch) / "logs"))


def main(argv: list[str] | None = None) -> int:
    """The benchmark's command line (see the module doc); returns 0.

    Prints the rates, or with `--json` the `Result` as JSON. Raises CatalogError for a
    project that cannot be loaded.
    """
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path)
    parser.add_argument("--function")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", default="1,16")
    parser.add_argument("--transports", default="socket,http")
    parser.add_argument("--start", default="fork", choices=("fork", "exec"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.project, args.function, args.seconds,
                     tuple(int(c) for c in args.concurrency.split(",")),
                     tuple(args.transports.split(",")), args.start)
    if args.json:
        print(json.dumps(asdict(result)))
        return 0
    print(f"{result.function} ({result.start_mode} start)")
    for rate in result.rates:
        print(f"  {rate.transport:6} {rate.concurrency:3} concurrent: "
              f"{rate.invocations_per_second:8.0f} invocations/s, "
              f"{rate.cpu_us_per_invocation:6.0f} us CPU each (service + environments)")
    if result.init_duration_ms:
        print(f"  Init Duration: median {statistics.median(result.init_duration_ms):.0f} ms "
              f"({', '.join(f'{d:.0f}' for d in result.init_duration_ms)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
