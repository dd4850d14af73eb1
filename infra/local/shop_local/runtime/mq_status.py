"""The MQ emulator's status file, `var/run/mq-emulator-<app>.json`: where it is, how the
emulator writes it and how `shop status` reads it.

Apart from runtime/mq_emulator.py, which pulls in pika, pydantic and the Lambda service,
so that `shop status` reads the file without importing any of them. The file is a JSON
object: `app`, `pid`, `updated_at` (Unix seconds, rewritten about every second) and
`mappings`, one `{"function", "state", ...}` object per event-source mapping
(`state` is `consuming` once its consumer is).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from shop_local.paths import RUN


def status_file_for(app: str) -> Path:
    """The status file of the emulator of function app `app`."""
    return RUN / f"mq-emulator-{app}.json"


def write_status(path: Path, app: str, mappings: list[dict[str, Any]]) -> None:
    """Atomically replace the status file at `path` with `mappings` (one status object each),
    stamped with this process's pid and the time now. OSError when it cannot be written.
    """
    report = {"app": app, "pid": os.getpid(), "updated_at": time.time(), "mappings": mappings}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(report))
    temporary.replace(path)


def read_status(app: str) -> dict[str, Any] | None:
    """The last status the emulator of `app` wrote, or None when there is no readable file."""
    try:
        report = json.loads(status_file_for(app).read_text())
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None
