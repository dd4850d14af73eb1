"""The fast local transport between the Lambda service and an execution environment.

The same messages as the Lambda Runtime API
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html), carried over a Unix
socket pair instead of HTTP: an invocation (`GET /runtime/invocation/next`'s answer:
request id, deadline, function ARN, trace id, client context, Cognito identity, and
the event), its response (`POST .../{id}/response`), its error (`POST .../{id}/error`)
and an init error (`POST /runtime/init/error`). One frame is a 9-byte header (kind,
meta length, body length; big-endian) then the meta (newline-separated fields, UTF-8)
then the body (the event, response or error document, as bytes).

`READY` is the environment's first `next` call: its init phase is done. After that a
response or an error also means "ready for the next one", so a warm invocation is
one frame each way. Both sides import this module; it uses the standard library only.
"""

from __future__ import annotations

import struct

HEADER = struct.Struct(">BII")

READY = 1  # environment -> service: init done, waiting for the first invocation
INVOKE = 2  # service -> environment: meta = INVOKE_FIELDS, body = the event
RESPONSE = 3  # environment -> service: meta = request id, max RSS (KB), content type
ERROR = 4  # environment -> service: meta = request id, max RSS (KB), error type
INIT_ERROR = 5  # environment -> service: meta = error type, body = the error document

INVOKE_FIELDS = ("request_id", "deadline_ms", "function_arn", "trace_id", "client_context",
                 "cognito_identity")


def frame(kind: int, meta: str, body: bytes = b"") -> bytes:
    """One message; `meta` must not hold a newline except as the field separator."""
    encoded = meta.encode()
    return HEADER.pack(kind, len(encoded), len(body)) + encoded + body


def split_meta(meta: bytes) -> list[str]:
    """A frame's meta as its newline-separated fields; UnicodeDecodeError if it is not UTF-8."""
    return meta.decode().split("\n")
