"""Log lines written off the request thread: complete, in order, with the request's id."""

from __future__ import annotations

import io
import json
import logging
import threading

from shop_common.logs import (
    JsonFormatter,
    configure_logging,
    queued_handler,
    request_id_var,
    stop_log_listener,
)


class ThreadRecordingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that also notes which thread wrote each line."""

    def __init__(self, stream: io.StringIO) -> None:
        super().__init__(stream)
        self.threads: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.threads.append(threading.current_thread().name)
        super().emit(record)


def queued_logger(stream: io.StringIO) -> tuple[logging.Logger, ThreadRecordingHandler]:
    target = ThreadRecordingHandler(stream)
    target.setFormatter(JsonFormatter("product"))
    logger = logging.getLogger("shop.test.queue")
    logger.handlers[:] = [queued_handler(target)]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, target


def test_lines_are_written_by_the_listener_not_the_calling_thread() -> None:
    stream = io.StringIO()
    logger, target = queued_logger(stream)
    try:
        for index in range(50):
            logger.info("request %d", index, extra={"status": 200})
    finally:
        stop_log_listener()  # drains the queue
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == [f"request {i}" for i in range(50)]
    assert all(line["status"] == 200 for line in lines)
    assert threading.current_thread().name not in target.threads


def test_each_line_carries_the_request_id_of_the_thread_that_logged_it() -> None:
    stream = io.StringIO()
    logger, _ = queued_logger(stream)

    def serve(request_id: str) -> None:
        token = request_id_var.set(request_id)
        try:
            logger.info("handled")
        finally:
            request_id_var.reset(token)

    try:
        threads = [threading.Thread(target=serve, args=(f"req-{i}",)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        logger.info("outside any request")
    finally:
        stop_log_listener()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    ids = sorted(line.get("request_id", "") for line in lines)
    assert ids == ["", *sorted(f"req-{i}" for i in range(8))]


def test_an_exception_keeps_its_traceback_through_the_queue() -> None:
    stream = io.StringIO()
    logger, _ = queued_logger(stream)
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    finally:
        stop_log_listener()
    line = json.loads(stream.getvalue())
    assert line["message"] == "failed"
    assert "ValueError: boom" in line["exception"] and "Traceback" in line["exception"]


def test_in_lambda_lines_are_written_at_once(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "shop-product-dev")
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("product")
        assert [type(h) for h in root.handlers] == [logging.StreamHandler]
        monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
        configure_logging("product")
        assert type(root.handlers[0]).__name__ == "RequestQueueHandler"
    finally:
        stop_log_listener()
        root.handlers[:], level = saved
        root.setLevel(level)
