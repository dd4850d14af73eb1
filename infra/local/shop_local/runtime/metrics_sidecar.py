"""A service's metrics sidecar: aggregate its multiprocess files, push them to the Pushgateway.

`python -m shop_local.runtime.metrics_sidecar --service user --dir var/metrics/user
--gateway http://127.0.0.1:9091 --interval 5`

Every interval it merges the directory's files (prometheus_client's
MultiProcessCollector: counters and histograms summed over every process that
ever wrote there, so they stay cumulative across restarts of the service and of
this pusher) and replaces its group `job=<service>, instance=<id>` with a PUT.
The instance id defaults to the host name and is stable on purpose: a pusher
that restarts overwrites its own group instead of adding a second one that the
Pushgateway would keep, and sum, forever.

It pushes only while a live process of the service has written to the directory,
as a Lambda extension pushes only while its execution environment lives: a
stopped service therefore stops pushing, and Prometheus sees its push age grow.
On SIGTERM/SIGINT it deletes its group, so a cleanly stopped stack leaves nothing
behind (the Pushgateway keeps no state on disk, which clears a crashed one's).

With `--user` and `--password-file` it pushes with HTTP basic auth (the Pushgateway
refuses anonymous pushes under `shop up`); the password never appears on its command
line.
"""

from __future__ import annotations

import argparse
import logging
import re
import signal
import socket
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import delete_from_gateway, push_to_gateway
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from shop_local.metrics_auth import MetricsCredentials
from shop_local.probes import pid_alive

log = logging.getLogger("shop.metrics_sidecar")

# prometheus_client names each file `<type>[_<gauge mode>]_<pid>.db`.
FILE_PID = re.compile(r"_(\d+)\.db$")
PUSH_TIMEOUT_SECONDS = 5.0


def pid_of(file_name: str) -> int | None:
    """The pid of the process that wrote a multiprocess file, from its name."""
    match = FILE_PID.search(file_name)
    return int(match.group(1)) if match else None


def writer_pids(directory: Path) -> set[int]:
    """The pids that have written a multiprocess file (`*_<pid>.db`) in `directory`."""
    return {pid for path in directory.glob("*.db") if (pid := pid_of(path.name)) is not None}


def prune_dead_processes(directory: Path) -> set[int]:
    """Drop the live gauges of processes that are gone; return the pids still running.

    Counters and histograms of dead processes stay: they are the history that keeps
    totals cumulative. Only `live*` gauges (up, backlog) must forget a dead writer.
    """
    alive = set()
    for pid in writer_pids(directory):
        if pid_alive(pid):
            alive.add(pid)
        else:
            mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
    return alive


def aggregated_registry(directory: Path) -> CollectorRegistry:
    """A registry of `directory`'s multiprocess files merged, read afresh at each collection.

    prometheus_client's MultiProcessCollector does the merging.
    """
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    return registry


@dataclass
class Sidecar:
    """The pusher of one service.

    It reads the multiprocess `directory` and pushes to the Pushgateway at `gateway` with
    the label `instance` (basic auth with `credentials` when set). `pushing` says whether
    the last round pushed, so that a change is logged once.
    """

    service: str
    directory: Path
    gateway: str
    instance: str
    credentials: MetricsCredentials | None = None
    pushing: bool = False

    @property
    def auth(self) -> dict[str, Any]:
        """The `handler=` argument of prometheus_client's push functions, if any."""
        return {"handler": self.credentials.push_handler()} if self.credentials else {}

    @property
    def grouping_key(self) -> dict[str, str]:
        return {"instance": self.instance}

    def tick(self) -> bool:
        """One round: prune, then push if the service runs. True when a push succeeded."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if not prune_dead_processes(self.directory):
            if self.pushing:
                log.info("%s: no live process; pausing pushes", self.service)
            self.pushing = False
            return False
        try:
            push_to_gateway(
                self.gateway, job=self.service, registry=aggregated_registry(self.directory),
                grouping_key=self.grouping_key, timeout=PUSH_TIMEOUT_SECONDS, **self.auth,
            )
        except OSError as exc:  # the gateway is not up yet, or restarting: try next round
            if self.pushing:
                log.warning("%s: push to %s failed: %s", self.service, self.gateway, exc)
            self.pushing = False
            return False
        if not self.pushing:
            log.info("%s: pushing to %s as instance %s", self.service, self.gateway,
                     self.instance)
        self.pushing = True
        return True

    def delete_group(self) -> None:
        """Delete this pusher's group (`job=<service>, instance=<instance>`) from the Pushgateway.

        One DELETE with a 5 s timeout; a failure (OSError) is logged, never raised.
        """
        try:
            delete_from_gateway(self.gateway, job=self.service, grouping_key=self.grouping_key,
                                timeout=PUSH_TIMEOUT_SECONDS, **self.auth)
            log.info("%s: deleted its group from %s", self.service, self.gateway)
        except OSError as exc:
            log.warning("%s: could not delete its group: %s", self.service, exc)

    def run(self, interval: float, stop: threading.Event) -> None:
        """`tick` every `interval` seconds until `stop` is set, then `delete_group`."""
        while True:
            self.tick()
            if stop.wait(interval):
                break
        self.delete_group()


def main(argv: list[str] | None = None) -> int:
    """The command line of the module docstring; runs until SIGTERM or SIGINT, then returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", required=True)
    parser.add_argument("--dir", type=Path, required=True, help="the service's multiprocess dir")
    parser.add_argument("--gateway", default="http://127.0.0.1:9091")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between pushes")
    parser.add_argument("--instance", default=socket.gethostname())
    parser.add_argument("--user", help="basic-auth user (with --password-file)")
    parser.add_argument("--password-file", type=Path, help="file holding the basic-auth password")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s %(levelname)s %(message)s")

    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    credentials = (MetricsCredentials.from_file(args.user, args.password_file)
                   if args.user and args.password_file else None)
    Sidecar(args.service, args.dir, args.gateway, args.instance, credentials).run(
        args.interval, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
