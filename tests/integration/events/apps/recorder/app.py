"""A function app for testing the MQ emulator: it records every event it is handed.

Each invocation appends one JSON line to $RECORDER_OUT: the event as received, the
Chalice configuration variables the function saw, and when it ran. A batch holding a message
whose body is {"fail_unless_redelivered": true} raises unless that message is a
redelivery, so a test sees the same message twice: first new, then redelivered.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from typing import Any

from chalice.app import Chalice

app = Chalice(app_name="shop-recorder")
_write_lock = threading.Lock()


def _wants_failure(message: dict[str, Any]) -> bool:
    try:
        body = json.loads(base64.b64decode(message["data"]))
    except ValueError:
        return False
    return isinstance(body, dict) and bool(body.get("fail_unless_redelivered")) \
        and not message["redelivered"]


@app.lambda_function(name="record")
def record(event: dict[str, Any], context: Any) -> dict[str, int]:
    started = time.time()
    time.sleep(0.05)  # long enough for an overlapping invocation to show
    line = {
        "started": started,
        "finished": time.time(),
        "event": event,
        "function_name": context.function_name,
        "environment": {key: os.environ.get(key) for key in
                        ("RECORDER_CONFIGURED", "RECORDER_FUNCTION_SETTING")},
    }
    with _write_lock, open(os.environ["RECORDER_OUT"], "a") as out:
        out.write(json.dumps(line) + "\n")
    messages = [m for ms in event["rmqMessagesByQueue"].values() for m in ms]
    if any(_wants_failure(m) for m in messages):
        raise RuntimeError("asked to fail until redelivered")
    return {"messages": len(messages)}
