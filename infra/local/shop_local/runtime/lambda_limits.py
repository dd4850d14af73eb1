"""Lambda's limits and the error documents it answers with when a limit is hit.

Sources: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
(payloads, the init phase) and the documents Lambda's Invoke API returns
(`{"errorMessage", "errorType"}` with `X-Amz-Function-Error: Unhandled`).
"""

from __future__ import annotations

import json
import math
import signal

from shop_local.runtime.invocation import SYNC_PAYLOAD_LIMIT_BYTES

# Asynchronous (`Event`) invocations take at most 1 MB (256 KB before October 2025).
ASYNC_PAYLOAD_LIMIT_BYTES = 1024 * 1024
# The init phase gets 10 s; past that Lambda retries it inside the first invocation
# with the function's timeout, so a cold start may take up to 10 s + the timeout.
INIT_LIMIT_SECONDS = 10.0

# Go's names for signals, as the Lambda agent words "Runtime exited with error: ...".
_GO_SIGNAL_NAMES = {
    signal.SIGKILL: "killed", signal.SIGSEGV: "segmentation fault",
    signal.SIGTERM: "terminated", signal.SIGABRT: "aborted", signal.SIGBUS: "bus error",
    signal.SIGINT: "interrupt", signal.SIGFPE: "floating point exception",
}


def error_document(request_id: str, message: str, error_type: str) -> bytes:
    """Lambda's error document for a failure of the platform (timeout, runtime exit, init).

    JSON bytes: `{"errorMessage": "RequestId: <id> Error: <message>", "errorType": ...}`,
    as the Invoke API returns it.
    """
    return json.dumps({"errorMessage": f"RequestId: {request_id} Error: {message}",
                       "errorType": error_type}).encode()


def timed_out(request_id: str, timeout_seconds: float) -> bytes:
    """The document of an invocation stopped at its timeout."""
    return error_document(request_id, timeout_message(timeout_seconds), "Sandbox.Timedout")


def timeout_message(timeout_seconds: float) -> str:
    """Lambda's words for a timeout: `Task timed out after <seconds, two decimals> seconds`."""
    return f"Task timed out after {timeout_seconds:.2f} seconds"


def exit_reason(returncode: int | None) -> str:
    """`exit status 1` or `signal: killed`, as Lambda words a runtime that exited.

    `returncode` as subprocess reports it (negative: killed by that signal).
    """
    if returncode is None:
        return "signal: killed"
    if returncode < 0:
        number = signal.Signals(-returncode)
        return f"signal: {_GO_SIGNAL_NAMES.get(number, number.name.lower())}"
    return f"exit status {returncode}"


def runtime_exited(request_id: str, returncode: int | None) -> bytes:
    """The document of an invocation whose environment died under it (memory, crash)."""
    return error_document(request_id, f"Runtime exited with error: {exit_reason(returncode)}",
                          "Runtime.ExitError")


def response_too_large(size: int) -> bytes:
    """Lambda's error document for a response over the 6 MB synchronous payload quota.

    `errorType` `Function.ResponseSizeTooLarge`; the message names `size` and the limit, in
    bytes.
    """
    return json.dumps({
        "errorMessage": f"Response payload size ({size} bytes) exceeded maximum allowed "
                        f"payload size ({SYNC_PAYLOAD_LIMIT_BYTES} bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }).encode()


def billed_ms(duration_ms: float) -> int:
    """Lambda bills each started millisecond."""
    return max(1, math.ceil(duration_ms))
