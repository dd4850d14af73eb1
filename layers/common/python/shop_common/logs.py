"""Structured JSON logs that carry the request id and never a secret.

A context variable holds the request id, because the local host serves requests on
threads and a per-logger key (as in powertools' Logger) would leak between them.

Outside Lambda the lines are written off the request thread: the root logger only
puts records on a queue (`logging.handlers.QueueHandler`) and one listener thread
formats and writes them (`QueueListener`), so threads serving requests never queue
on the stream's lock. In a Lambda execution environment (one invocation at a time,
frozen between invocations) they are written at once, so none waits for a thaw.
"""

from __future__ import annotations

import atexit
import contextvars
import copy
import json
import logging
import os
import queue
import sys
import time
from collections.abc import Mapping
from logging.handlers import QueueHandler, QueueListener
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

SENSITIVE_WORDS = ("password", "token", "secret", "authorization", "cookie", "key")
REDACTED = "[redacted]"
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def redact(value: Any, key: str = "") -> Any:
    if any(word in key.lower() for word in SENSITIVE_WORDS):
        return REDACTED
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Captured by the request thread when the record was queued (see RequestQueueHandler).
        request_id = getattr(record, "_request_id", None) or request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = redact(value, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)


class RequestQueueHandler(QueueHandler):
    """Queues a record with what only the request thread knows: its request id, its
    message with the arguments merged, and its traceback as text."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        prepared = copy.copy(record)
        prepared.msg, prepared.args = record.getMessage(), None
        if record.exc_info:
            prepared.exc_text = logging.Formatter().formatException(record.exc_info)
            prepared.exc_info = None
        prepared.__dict__["_request_id"] = request_id_var.get()
        return prepared


_listener: QueueListener | None = None


def in_lambda() -> bool:
    """True inside a Lambda execution environment (its runtime sets this variable)."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def queued_handler(handler: logging.Handler) -> logging.Handler:
    """A handler that hands records to `handler` on one listener thread (replacing any
    earlier one); the listener drains the queue at exit."""
    global _listener
    stop_log_listener()
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    _listener = QueueListener(records, handler, respect_handler_level=True)
    _listener.start()
    return RequestQueueHandler(records)


def stop_log_listener() -> None:
    """Write what is queued and stop the listener thread, if one runs."""
    global _listener
    if _listener is not None:
        _listener.stop()
        _listener = None


atexit.register(stop_log_listener)


def configure_logging(service: str, level: str = "INFO", queued: bool | None = None) -> None:
    """JSON lines on stderr for every logger; `queued` (default: outside Lambda) writes
    them on the listener thread."""
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    if queued if queued is not None else not in_lambda():
        handler = queued_handler(handler)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
