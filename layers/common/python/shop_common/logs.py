"""Structured JSON logs that carry the request id and never a secret.

A context variable holds the request id, because the local host serves requests on
threads and a per-logger key (as in powertools' Logger) would leak between them.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import threading
import time
from types import TracebackType
from typing import Any

from shop_common.redaction import REDACTED, RedactingFilter, redact, redact_record

__all__ = ["REDACTED", "JsonFormatter", "configure_logging", "redact", "request_id_var"]

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        redact_record(record)  # whichever handler this formatter serves
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
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


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stderr for every logger, each line redacted (shop_common.redaction)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(RedactingFilter())
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
