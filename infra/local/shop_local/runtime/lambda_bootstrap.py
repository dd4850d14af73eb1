"""Inside an execution environment: AWS's own runtime interface client over the fast transport.

`awslambdaric.bootstrap.run(handler, client)` loads the handler (the init phase), then
loops: wait for the next invocation, build Lambda's context object, call the handler,
post its result or Lambda's error document. Only the client object is ours: it carries
the Runtime API's messages over the socket the Lambda service handed this process
(`shop_local.runtime.lambda_wire`), so handler loading, the context and the error
shapes are those of AWS's Python runtime.

Run by the Lambda service as `python -m shop_local.runtime.lambda_bootstrap`, with the
function's code folder as working directory and `_HANDLER`, `SHOP_LAMBDA_SOCKET_FD`
and Lambda's standard variables in the environment.
"""

from __future__ import annotations

import os
import resource
import socket
import sys
from typing import Any

from awslambdaric import bootstrap
from awslambdaric.lambda_runtime_client import BaseLambdaRuntimeClient, InvocationRequest

from shop_local.runtime import lambda_wire

SOCKET_FD_VARIABLE = "SHOP_LAMBDA_SOCKET_FD"


PARENT_PID_VARIABLE = "SHOP_LAMBDA_PARENT_PID"
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Be killed when the process that started this one dies (Linux's parent-death signal).

    An environment never outlives its runtime process: a runtime killed mid-invocation
    takes the invocation with it, as an in-process function would go. The parent's pid
    comes in `SHOP_LAMBDA_PARENT_PID`; if it is already gone, exit now.
    """
    import ctypes
    import signal

    expected = os.environ.pop(PARENT_PID_VARIABLE, "")
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return  # not Linux: the socket's end still stops an idle environment
    if expected and os.getppid() != int(expected):
        os._exit(1)


def max_rss_kb() -> int:
    """This process's peak resident set size in KiB (`getrusage` ru_maxrss, as Linux gives it)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


class SocketRuntimeClient(BaseLambdaRuntimeClient):  # type: ignore[misc]
    """The Runtime API client `bootstrap.run` drives, over a Unix socket (see lambda_wire)."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__("fast-transport")
        self._sock = sock
        self._reader = sock.makefile("rb")
        self._ready_sent = False

    def _send(self, kind: int, meta: str, body: bytes = b"") -> None:
        self._sock.sendall(lambda_wire.frame(kind, meta, body))

    def _receive(self) -> tuple[int, bytes, bytes]:
        header = self._reader.read(lambda_wire.HEADER.size)
        if len(header) < lambda_wire.HEADER.size:
            sys.exit(0)  # the service closed the socket: this environment is shut down
        kind, meta_length, body_length = lambda_wire.HEADER.unpack(header)
        meta = self._reader.read(meta_length)
        body = self._reader.read(body_length)
        return kind, meta, body

    def wait_next_invocation(self) -> InvocationRequest:
        if not self._ready_sent:
            self._send(lambda_wire.READY, "")
            self._ready_sent = True
        kind, meta, body = self._receive()
        if kind != lambda_wire.INVOKE:
            raise RuntimeError(f"unexpected message kind {kind} from the Lambda service")
        fields = dict(zip(lambda_wire.INVOKE_FIELDS, lambda_wire.split_meta(meta), strict=True))
        return InvocationRequest(
            invoke_id=fields["request_id"],
            x_amzn_trace_id=fields["trace_id"] or None,
            invoked_function_arn=fields["function_arn"],
            deadline_time_in_ms=int(fields["deadline_ms"]),
            client_context=fields["client_context"] or None,
            cognito_identity=fields["cognito_identity"] or None,
            tenant_id=None,
            content_type="application/json",
            event_body=body,
            invocation_id=None,
        )

    def post_invocation_result(self, invoke_id: str, result_data: Any,
                               content_type: str = "application/json",
                               invocation_id: str | None = None) -> None:
        body = result_data if isinstance(result_data, bytes) else result_data.encode()
        self._send(lambda_wire.RESPONSE, f"{invoke_id}\n{max_rss_kb()}\n{content_type}", body)

    def post_invocation_error(self, invoke_id: str, error_response_data: str, xray_fault: str,
                              invocation_id: str | None = None) -> None:
        import json

        error_type = json.loads(error_response_data).get("errorType", "") or "Unhandled"
        self._send(lambda_wire.ERROR, f"{invoke_id}\n{max_rss_kb()}\n{error_type}",
                   error_response_data.encode())

    def post_init_error(self, error_response_data: dict[str, Any],
                        error_type_override: str | None = None) -> None:
        from awslambdaric.lambda_runtime_marshaller import to_json

        error_type = error_type_override or error_response_data.get("errorType", "")
        self._send(lambda_wire.INIT_ERROR, error_type, to_json(error_response_data).encode())


def main() -> None:
    """Run the runtime interface client in this environment until the service closes the socket.

    Reads the socket's descriptor from `SHOP_LAMBDA_SOCKET_FD` and the handler from
    `_HANDLER` (KeyError without them), puts `LAMBDA_TASK_ROOT` first on `sys.path` as
    Lambda's bootstrap does, then `awslambdaric.bootstrap.run`s the handler.
    """
    die_with_parent()
    sock = socket.socket(fileno=int(os.environ.pop(SOCKET_FD_VARIABLE)))
    # As Lambda's bootstrap: the task root first on the path, the handler from _HANDLER.
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    if sys.path[0] != task_root:
        sys.path.insert(0, task_root)
    bootstrap.run(os.environ["_HANDLER"], SocketRuntimeClient(sock))


if __name__ == "__main__":
    main()
