"""A Chalice app for the gateway's tests: it records calls, returns its own event, answers
binary, dies, answers malformed, sleeps, and declares CORS on one route."""

from __future__ import annotations

import os
import time
from typing import Any

from chalice.app import Chalice, Response

VERSION = 1
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff\xfe"
BODY_TYPES = ["application/json", "application/octet-stream", "image/png", "text/plain"]

app = Chalice(app_name="gateway-probe")


def request_body() -> bytes:
    request = app.current_request
    assert request is not None
    raw = request.raw_body
    return raw.encode() if isinstance(raw, str) else (raw or b"")


@app.route("/ping")
def ping() -> dict[str, Any]:
    return {"pong": True, "version": VERSION}


@app.route("/record/{name}", methods=["GET", "POST"], content_types=BODY_TYPES)
def record(name: str) -> dict[str, Any]:
    with open(os.environ["PROBE_RECORD_FILE"], "a") as calls:
        calls.write(name + "\n")
    return {"recorded": name, "length": len(request_body())}


@app.route("/event", methods=["GET", "POST"], content_types=BODY_TYPES)
def event() -> dict[str, Any]:
    request = app.current_request
    assert request is not None
    return dict(request.to_original_event())


@app.route("/image")
def image() -> Response:
    return Response(body=PNG, headers={"Content-Type": "image/png"})


@app.route("/crash")
def crash() -> None:
    # Chalice turns any exception into its own 500 answer; a runtime that dies fails the
    # invocation itself (Runtime.ExitError), which the gateway answers with 502.
    os._exit(3)


@app.route("/malformed")
def malformed() -> Response:
    return Response(body="x", status_code=1000)  # not an HTTP status


@app.route("/sleep/{seconds}")
def sleep(seconds: str) -> dict[str, Any]:
    time.sleep(float(seconds))
    return {"slept": seconds}


@app.route("/items/{item_id}", cors=True)
def item(item_id: str) -> dict[str, Any]:
    return {"id": item_id}
