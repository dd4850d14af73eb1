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
import threading
import time
from logging.handlers import QueueHandler, QueueListener
from types import TracebackType
from typing import Any

from shop_common.redaction import REDACTED, RedactingFilter, redact, redact_record

__all__ = ["REDACTED", "JsonFormatter", "configure_logging", "redact", "request_id_var"]

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ms), level, service, logger, message,
    request_id, the record's extras, and its traceback or stack when it has one."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        # The last second formatted and its text: lines come many per second, and
        # gmtime + strftime were a fifth of a line's formatting.
        self._second: tuple[int, str] = (-1, "")

    def utc_time(self, created: float, msecs: float) -> str:
        """`created` (epoch seconds) as `YYYY-MM-DDTHH:MM:SS.mmmZ`."""
        second = int(created)
        cached_second, text = self._second
        if second != cached_second:
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, text)
        return f"{text}.{int(msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        redact_record(record)  # whichever handler this formatter serves
        entry: dict[str, Any] = {
            "time": self.utc_time(record.created, record.msecs),
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
                entry[key] = value  # already redacted
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
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
    """JSON lines on stderr for every logger, each line redacted (shop_common.redaction).

    `queued` (default: outside Lambda) writes them on the listener thread.
    """
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(RedactingFilter())
    if queued if queued is not None else not in_lambda():
        # The stream handler's filter then redacts on the listener thread: the queued
        # record is a copy whose message and traceback are text, redacted like any other.
        handler = queued_handler(handler)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    route_console_loggers_to_root()
    log_uncaught_exceptions()
    logging.captureWarnings(True)


def route_console_loggers_to_root() -> None:
    """Send loggers that print to the console themselves through the root handler instead.

    Chalice gives each app's logger its own stdout handler and stops propagation, so its
    "Caught exception" tracebacks would bypass the root handler's redaction and JSON.
    Any other handler a library installed keeps working, with the redaction added.
    """
    consoles = {sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__}
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if not isinstance(logger, logging.Logger):
            continue
        for handler in list(logger.handlers):
            if isinstance(handler, logging.StreamHandler) and handler.stream in consoles:
                logger.removeHandler(handler)
            elif not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
        if not logger.handlers:
            logger.propagate = True


def _log_uncaught(exc_type: type[BaseException], exc: BaseException,
                  tb: TracebackType | None) -> None:
    logging.getLogger("shop.uncaught").critical("uncaught exception", exc_info=(exc_type, exc, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("shop.uncaught").error(
        "uncaught exception in thread %s", name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback))


def log_uncaught_exceptions() -> None:
    """Tracebacks of uncaught exceptions go through logging (and so its redaction),
    not straight to stderr as Python's default hooks write them."""
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
