"""Transport: the trivial Chalice route at 1, 16 and 64 connections.

The shop runtime vs stock `chalice local --no-autoreload` vs serverless-offline (a
Python handler) vs the floors (a raw app on bare HTTP servers: the stdlib's
ThreadingHTTPServer, uvicorn+httptools, granian). The runtime's row is a ratio
against the floor of the server it runs on; every other row against the runtime.
"""

from __future__ import annotations

from bench import loadgen, peers
from bench.context import Context
from bench.report import Row, interleaved, load_row
from bench.servers import ServerSpec, running

SECTION = "transport"
CONNECTIONS = (1, 16, 64)
FLOOR_SERVERS = ("http.server", "uvicorn", "granian")


def specs() -> tuple[list[ServerSpec], list[str]]:
    found = [peers.shop_runtime(), peers.stock_chalice()]
    notes = []
    offline = peers.serverless_offline()
    if isinstance(offline, ServerSpec):
        found.append(offline)
    else:
        notes.append(f"serverless-offline {offline}")
    for server in dict.fromkeys((*FLOOR_SERVERS, peers.runtime_server())):
        if peers.floor_installed(server):
            found.append(peers.floor(server))
        else:
            notes.append(f"floor {server}: skipped, not installed")
    return found, notes


def run(ctx: Context) -> list[Row]:
    found, notes = specs()
    runtime_floor = f"floor {peers.runtime_server()}"
    rows: list[Row] = []
    with running(found, ctx.workdir) as servers:
        for connections in CONNECTIONS:
            runs = interleaved({
                name: (lambda url=server.url, c=connections: loadgen.load(url, c, ctx.seconds))
                for name, server in servers.items()
            }, ctx.rounds)
            level = {name: load_row(SECTION, f"c{connections} {name}", each)
                     for name, each in runs.items()}
            runtime = level["shop runtime"]
            runtime.name += f" ({peers.runtime_server()})"
            for name, row in level.items():
                if name == "shop runtime":
                    if runtime_floor in level:
                        row.against(level[runtime_floor])
                    else:
                        row.note = f"no floor for {peers.runtime_server()}"
                else:
                    row.against(runtime)
                rows.append(row)
    for note in notes:
        rows.append(Row(SECTION, note, None, ""))
    return rows
