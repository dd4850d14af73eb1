"""What every trigger of the local runtime hands to the Lambda service, and what it gets back.

The API Gateway front, the EventBridge schedules, the Amazon MQ event-source mappings
and the Lambda Invoke API all invoke functions through one `Invoker`, as they all go
through the Lambda service in AWS.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal, Protocol

InvocationType = Literal["RequestResponse", "Event", "DryRun"]

# Synchronous invocation payload limits, request and response alike:
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
SYNC_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024


@dataclass(frozen=True)
class InvocationResult:
    """One finished invocation.

    `payload` is the function's response document (JSON bytes) or, when
    `function_error` is set ("Unhandled"), Lambda's error document
    (`{"errorMessage", "errorType", "stackTrace"}`), as the Invoke API returns them.
    `log_tail` is the end of the invocation's log (at most 4 KB, for `LogType: Tail`).
    """

    payload: bytes
    function_error: str | None = None
    log_tail: str = ""
    request_id: str = ""
    executed_version: str = "$LATEST"


class InvokeError(Exception):
    """The Lambda service refused the invocation itself (not an error of the function).

    `status` and `error_type` are the Invoke API's HTTP status and `x-amzn-ErrorType`.
    """

    status = 500
    error_type = "ServiceException"


class FunctionNotFound(InvokeError):
    """No such function (or qualifier) here: the Invoke API's 404 `ResourceNotFoundException`."""

    status = 404
    error_type = "ResourceNotFoundException"


class RequestTooLarge(InvokeError):
    """The payload is over Lambda's payload quota: the Invoke API's 413 `RequestTooLargeException`.

    6 MB for a synchronous invocation, 1 MB for `Event` ("Lambda quotas").
    """

    status = 413
    error_type = "RequestTooLargeException"


class TooManyRequests(InvokeError):
    """The function's concurrency limit (reserved or local default) is reached."""

    status = 429
    error_type = "TooManyRequestsException"


class Invoker(Protocol):
    """The one way to run a function: every trigger calls this."""

    async def invoke(self, function_name: str, payload: bytes,
                     invocation_type: InvocationType = "RequestResponse") -> InvocationResult:
        """Run `function_name` with `payload` (the event, JSON bytes).

        Raises FunctionNotFound, RequestTooLarge or TooManyRequests; a function that fails,
        times out or runs out of memory is a result with `function_error` set, not a raise.
        """
        ...


class Submitter(Protocol):
    """What the API Gateway front invokes through: a synchronous invocation started at once."""

    def submit(self, function_name: str, payload: bytes) -> asyncio.Future[InvocationResult]:
        """A `RequestResponse` invocation of `function_name` with `payload` (the event,
        JSON bytes), started now; the future settles with its result or raises as
        `Invoker.invoke` does.
        """
        ...
