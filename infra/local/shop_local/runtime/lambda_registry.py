"""Which runtime process runs which function: the registry behind the one Invoke API port.

Each runtime process of the local stack (a service host, the MQ emulator) owns the
functions of its app and runs them in its own Lambda service. When
`SHOP_LAMBDA_REGISTRY_DIR` is set, the service also serves the Invoke API on a free
loopback port and writes `<dir>/<pid>.json` (`{"pid", "url", "functions"}`); the
Invoke API on 3001 (`lambda_router`) forwards each call to the owner it finds here.
A file whose process is gone is ignored (and removed by the next owner listing).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from shop_local.probes import pid_alive


@dataclass(frozen=True)
class Registration:
    """One process's entry in the registry folder (`<pid>.json`), as `publish` wrote it."""

    path: Path

    def remove(self) -> None:
        """Delete the entry: the router stops sending this process invocations. Idempotent."""
        self.path.unlink(missing_ok=True)


def publish(directory: Path, url: str, functions: list[str]) -> Registration:
    """Announce that this process serves `functions` at `url` (atomically replaced)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{os.getpid()}.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"pid": os.getpid(), "url": url, "functions": functions}))
    temporary.replace(path)
    return Registration(path)


def owners(directory: Path, prune: bool = True) -> dict[str, str]:
    """Function name -> Invoke API URL of the live process that runs it; the entry of a
    process that is gone is removed when `prune` (a read-only caller passes False).
    """
    found: dict[str, str] = {}
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob("*.json")):
        try:
            entry = json.loads(path.read_text())
            pid = int(entry["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not pid_alive(pid):
            if prune:
                path.unlink(missing_ok=True)
            continue
        for name in entry.get("functions", []):
            found[str(name)] = str(entry["url"])
    return found
