"""HTTP load at a fixed number of kept-alive connections: wrk, or Python threads without it.

`load(url, connections, seconds)` returns one `LoadResult`: requests per second,
p50/p99 latency and errors. wrk (Debian's package) runs with one thread, so the
server under test keeps the other core; its Lua script (bench/wrk/report.lua) adds
the Authorization header and prints the figures as one JSON line. Without wrk a
thread per connection sends GETs on `http.client` connections: slower, so its
figures are only compared with others measured by the same generator (results.json
names the generator).
"""

from __future__ import annotations

import http.client
import json
import math
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

SCRIPT = Path(__file__).parent / "wrk" / "report.lua"
TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # connection errors, timeouts and answers other than 2xx/3xx

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def generator() -> str:
    """Which load generator `load` uses on this machine."""
    return "wrk" if shutil.which("wrk") else "python"


def load(url: str, connections: int, seconds: float, authorization: str | None = None
         ) -> LoadResult:
    """GET `url` on `connections` kept-alive connections for `seconds`."""
    if generator() == "wrk":
        return _wrk(url, connections, seconds, authorization)
    return _python(url, connections, seconds, authorization)


def wrk_version() -> str | None:
    if not shutil.which("wrk"):
        return None
    result = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    first = (result.stdout or result.stderr).strip().splitlines()
    return first[0] if first else "wrk"


def _wrk(url: str, connections: int, seconds: float, authorization: str | None) -> LoadResult:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               f"--timeout={TIMEOUT_SECONDS}s", "-s", str(SCRIPT), url]
    env = {**os.environ, "BENCH_AUTHORIZATION": authorization or ""}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False,
                            timeout=seconds + 60)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            figures = json.loads(line.removeprefix("BENCH_JSON "))
            return LoadResult(
                requests=figures["requests"], seconds=figures["duration_us"] / 1e6,
                p50_ms=figures["p50_us"] / 1000, p99_ms=figures["p99_us"] / 1000,
                errors=sum(figures[k] for k in ("connect_errors", "read_errors", "write_errors",
                                                "status_errors", "timeouts")),
            )
    raise RuntimeError(f"wrk printed no result for {url}:\n{result.stdout}\n{result.stderr}")


def _python(url: str, connections: int, seconds: float, authorization: str | None
            ) -> LoadResult:
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Authorization": authorization} if authorization else {}
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    started = time.monotonic()
    deadline = started + seconds

    def worker(index: int) -> None:
        connection: http.client.HTTPConnection | None = None
        while time.monotonic() < deadline:
            if connection is None:
                connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1",
                                                        parts.port or 80,
                                                        timeout=TIMEOUT_SECONDS)
            sent = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                connection.close()
                connection = None
                continue
            latencies[index].append(time.perf_counter() - sent)
            if response.status >= 400:
                errors[index] += 1
        if connection is not None:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 2 * TIMEOUT_SECONDS)
    elapsed = time.monotonic() - started
    every = sorted(x for each in latencies for x in each)
    return LoadResult(len(every), elapsed, 1000 * percentile(every, 0.50),
                      1000 * percentile(every, 0.99), sum(errors))


def percentile(ordered: list[float], quantile: float) -> float:
    """Nearest-rank percentile of an ascending list; 0.0 for an empty one."""
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(quantile * len(ordered)) - 1)]
