"""`python -m bench [section ...]`: measure the shop, print one table, write bench/results.json.

Sections (default: all, in this order):
  transport  the trivial route at 1/16/64 connections: the shop runtime vs stock
             `chalice local` vs serverless-offline vs raw apps on bare HTTP servers
  routes     the real routes, authenticated, at 16 connections, as shares of the trivial one
  cache      catalog cache hit vs miss; a hit vs one Redis GET behind the same server
  ordering   one hot product at 1/8/32 buyers: saga vs hold-lock vs the raw row-lock
             floor, with a fast order service and one slowed by 300 ms per call
  drivers    pg8000 vs psycopg 3 on the product service's database paths
  events     order -> invoice email latency; request -> metric visible in Prometheus
  footprint  a whole stack under its own supervisord: start to healthy, RSS/PSS idle and
             under load, login latency and the argon2 parameters

Everything runs on a throw-away stack (own databases, vhost, keys, Redis prefix, free
ports), never on the live stack's ports. Every figure is the median of --rounds
interleaved runs; every ratio is against a baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import machine
from bench.context import Context
from bench.report import Row, render, write_results
from bench.sections import cache, drivers, events, footprint, ordering, routes, transport

SECTIONS: dict[str, Callable[[Context], list[Row]]] = {
    "transport": transport.run,
    "routes": routes.run,
    "cache": cache.run,
    "ordering": ordering.run,
    "drivers": drivers.run,
    "events": events.run,
    "footprint": footprint.run,
}
RESULTS = Path(__file__).parent / "results.json"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    # Not `choices=`: with nargs="*" argparse checks the empty default against them too.
    parser.add_argument("sections", nargs="*", metavar="section",
                        help=f"sections to run ({', '.join(SECTIONS)}; default: all)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved runs per figure; the median is reported (default 3)")
    parser.add_argument("--seconds", type=float, default=2.0,
                        help="length of one load run (default 2)")
    parser.add_argument("--keep-workdir", action="store_true",
                        help="keep the work folder (servers' logs) and say where it is")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help=f"where to write the results (default {RESULTS})")
    args = parser.parse_args(argv)
    unknown = [name for name in args.sections if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)} (choose from {', '.join(SECTIONS)})")
    if args.rounds < 1 or args.seconds <= 0:
        parser.error("--rounds must be at least 1 and --seconds positive")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    names = args.sections or list(SECTIONS)
    context = machine.describe(argv)
    print(machine.summary(context), flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="shop-bench-"))
    ctx = Context(workdir, args.rounds, args.seconds)
    rows: list[Row] = []
    failures: list[str] = []
    started = time.monotonic()
    try:
        for name in names:
            print(f"bench: {name} ...", flush=True)
            section_started = time.monotonic()
            try:
                rows.extend(SECTIONS[name](ctx))
            except Exception as exc:  # one broken section must not lose the others' figures
                traceback.print_exc()
                failures.append(f"{name}: {exc}")
                rows.append(Row(name, f"FAILED: {str(exc).splitlines()[0][:120]}", None, ""))
            print(f"bench: {name} took {time.monotonic() - section_started:.0f} s", flush=True)
    finally:
        ctx.close()
        if args.keep_workdir:
            print(f"bench: logs kept in {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    context.update(sections=names, rounds=args.rounds, seconds_per_run=args.seconds,
                   wall_seconds=round(time.monotonic() - started), failures=failures)
    print()
    print(render(rows))
    write_results(args.out, rows, context)
    print(f"\nwritten to {args.out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
