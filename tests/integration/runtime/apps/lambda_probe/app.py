"""A scratch function app for the Lambda service's tests: each function shows one behaviour.

- `probe` answers what its environment looks like: the process, a module-global
  counter (proof of which environment served it), Lambda's variables, the context.
- `sleepy` sleeps `event["seconds"]` (its timeout is 2 s); `hog` holds `event["mb"]`
  MB (its memory size is 128 MB); `big` answers `event["mb"]` MB of text; `fail` raises;
  `limited` has a reserved concurrency of 1; `tick` runs on a schedule and appends
  the event to $PROBE_OUT.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from typing import Any

from chalice.app import Chalice, Rate

app = Chalice(app_name="lambda-probe")

INVOCATIONS = {"count": 0}
STARTED_AT = time.time()
VARIABLES = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
             "AWS_LAMBDA_FUNCTION_VERSION", "AWS_REGION", "AWS_DEFAULT_REGION",
             "AWS_EXECUTION_ENV", "_HANDLER", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
             "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "TZ", "TMPDIR",
             "PROBE_SETTING")


@app.lambda_function(name="probe")
def probe(event: dict[str, Any], context: Any) -> dict[str, Any]:
    INVOCATIONS["count"] += 1
    if event.get("sleep"):
        time.sleep(float(event["sleep"]))
    print(f"probe says {event.get('say', 'hello')}")
    marker = os.path.join(tempfile.gettempdir(), "marker")
    seen_before = os.path.exists(marker)
    with open(marker, "w") as out:
        out.write("x")
    return {
        "pid": os.getpid(),
        "count": INVOCATIONS["count"],
        "cwd": os.getcwd(),
        "tmp": tempfile.gettempdir(),
        "tmp_marker_seen_before": seen_before,
        "variables": {name: os.environ.get(name) for name in VARIABLES},
        "context": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_time_in_millis": context.get_remaining_time_in_millis(),
            "client_context": (None if context.client_context is None
                               else context.client_context.custom),
        },
        "event": event,
    }


@app.lambda_function(name="sleepy")
def sleepy(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("seconds"):  # time.sleep(0) still costs a timer slack
        time.sleep(float(event["seconds"]))
    return {"slept": event.get("seconds", 0), "pid": os.getpid()}


@app.lambda_function(name="hog")
def hog(event: dict[str, Any], context: Any) -> dict[str, Any]:
    held = bytearray(int(event.get("mb", 1)) * 1024 * 1024)
    for index in range(0, len(held), 4096):  # touch every page: resident, not just reserved
        held[index] = 1
    if event.get("hold_seconds"):
        time.sleep(float(event["hold_seconds"]))
    return {"held_mb": len(held) // (1024 * 1024), "pid": os.getpid()}


@app.lambda_function(name="big")
def big(event: dict[str, Any], context: Any) -> str:
    return "x" * int(float(event.get("mb", 1)) * 1024 * 1024)


@app.lambda_function(name="fail")
def fail(event: dict[str, Any], context: Any) -> None:
    raise ValueError(f"asked to fail: {event.get('why', 'no reason')}")


@app.lambda_function(name="limited")
def limited(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("seconds"):
        time.sleep(float(event["seconds"]))
    return {"pid": os.getpid()}


@app.schedule(Rate(5, unit=Rate.MINUTES), name="tick")
def tick(event: Any) -> None:
    with open(os.environ["PROBE_OUT"], "a") as out:
        out.write(json.dumps({"event": event.to_dict(), "pid": os.getpid(),
                              "function": os.environ.get("AWS_LAMBDA_FUNCTION_NAME")}) + "\n")
