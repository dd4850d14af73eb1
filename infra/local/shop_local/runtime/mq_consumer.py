"""One event-source mapping played locally: consume a queue, batch, invoke, ack or requeue.

What Lambda's Amazon MQ poller does, and what is kept here:
- a batch closes at `batch_size` messages or `maximum_batching_window_seconds` after
  its first message, whichever comes first;
- one invocation at a time per mapping (prefetch = batch size, invocations in turn);
- the batch is acked when the function returns and the whole batch is requeued
  (nack, requeue) when it raises, so the quorum queue's delivery limit counts it;
- a lost broker connection is retried with backoff, forever.

The function runs on a worker thread while this thread keeps the AMQP connection
serviced (heartbeats), so a slow invocation does not get the connection dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError
from pika.spec import Basic

from shop_common.messaging import QueueSpec, connection_parameters
from shop_local.mappings import EmulatorTuning, EventSourceMapping
from shop_local.runtime.rmq_event import Delivery, amazon_mq_event

log = logging.getLogger("shop.mq_emulator")

Invoke = Callable[[dict[str, Any]], object]
CONNECT_TIMEOUT_SECONDS = 10
HEARTBEAT_SECONDS = 30
IDLE_POLL_SECONDS = 0.25
WORKER_POLL_SECONDS = 0.02
FIRST_RECONNECT_DELAY_SECONDS = 0.25


class Backoff:
    """Delays that double from `first` up to `cap`; `reset` after a success."""

    def __init__(self, first: float, cap: float) -> None:
        self._first, self._cap = first, cap
        self._next = first

    def next(self) -> float:
        """The delay to wait now, in seconds: `first`, then twice the last, never above `cap`."""
        delay = min(self._next, self._cap)
        self._next = min(max(self._next * 2, self._first), self._cap)
        return delay

    def reset(self) -> None:
        """Start again from `first` (after a success)."""
        self._next = self._first


@dataclass
class ConsumerStatus:
    """What one mapping is doing, for the emulator's status file.

    `state` is starting, connecting, consuming, reconnecting or stopped; the counts are
    invocations, failed invocations and messages so far; `last_error` is `Class: message`
    or None.
    """

    function: str
    queue: str
    vhost: str
    state: str = "starting"  # connecting | consuming | reconnecting | stopped
    invocations: int = 0
    failures: int = 0
    messages: int = 0
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The status as a JSON-ready dict, one key per field."""
        return asdict(self)


@dataclass(frozen=True)
class Target:
    """Where a mapping reads from and what its events say about it."""

    amqp_url: str
    vhost: str
    arn: str
    queue_spec: QueueSpec


class BatchConsumer:
    """Plays one Amazon MQ event-source mapping on the calling thread (see the module doc).

    `run` consumes `target`'s queue and hands each batch, as Lambda's Amazon MQ event, to
    `invoke` until `stop` is set.
    """

    def __init__(self, mapping: EventSourceMapping, target: Target, invoke: Invoke,
                 tuning: EmulatorTuning, stop: threading.Event) -> None:
        self.mapping = mapping
        self._target = target
        self._invoke = invoke
        self._tuning = tuning
        self._stop = stop
        self._lock = threading.Lock()
        self._status = ConsumerStatus(mapping.function, mapping.queue, target.vhost)

    def status(self) -> ConsumerStatus:
        """A copy of the mapping's current status (safe to read from another thread)."""
        with self._lock:
            return ConsumerStatus(**self._status.as_dict())

    def _update(self, **changes: Any) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(self._status, key, value)

    def run(self) -> None:
        """Consume until `stop` is set.

        Reconnects with backoff (0.25 s, doubling up to the tuning's maximum) after a lost
        connection or any other Exception, which it logs and never raises. A batch whose
        invocation raised is requeued whole (nack with requeue).
        """
        reconnect = Backoff(FIRST_RECONNECT_DELAY_SECONDS,
                            self._tuning.max_reconnect_backoff_seconds)
        while not self._stop.is_set():
            self._update(state="connecting")
            try:
                self._consume(on_consuming=reconnect.reset)
            except (AMQPError, OSError) as exc:
                self._lost(exc, reconnect)
            except Exception as exc:  # a bug here must not end the mapping for good
                log.exception("consumer failed", extra={"function": self.mapping.function})
                self._lost(exc, reconnect)
        self._update(state="stopped")

    def _lost(self, exc: Exception, reconnect: Backoff) -> None:
        delay = reconnect.next()
        self._update(state="reconnecting", last_error=f"{type(exc).__name__}: {exc}")
        log.warning("broker connection lost; reconnecting", extra={
            "function": self.mapping.function, "queue": self.mapping.queue,
            "error": type(exc).__name__, "retry_in_seconds": delay,
        })
        self._stop.wait(delay)

    def _consume(self, on_consuming: Callable[[], None]) -> None:
        parameters = connection_parameters(
            self._target.amqp_url, timeout=CONNECT_TIMEOUT_SECONDS, heartbeat=HEARTBEAT_SECONDS
        )
        connection = pika.BlockingConnection(parameters)
        try:
            channel = connection.channel()
            # As a Lambda event-source mapping, it reads a queue the set-up declared and
            # declares nothing: its broker user may only read its queues. A passive
            # declare needs no permission; a missing queue closes the channel (404) and
            # the mapping retries, its status naming the error.
            channel.queue_declare(self.mapping.queue, passive=True)
            channel.basic_qos(prefetch_count=self.mapping.batch_size)
            buffer: list[Delivery] = []

            def on_message(_channel: BlockingChannel, method: Basic.Deliver,
                           properties: pika.BasicProperties, body: bytes) -> None:
                buffer.append(Delivery(method.delivery_tag, bool(method.redelivered),
                                       properties, body))

            channel.basic_consume(self.mapping.queue, on_message)
            self._update(state="consuming", last_error=None)
            on_consuming()
            log.info("consuming", extra={"function": self.mapping.function,
                                         "queue": self.mapping.queue, "vhost": self._target.vhost})
            retry = Backoff(self._tuning.retry_backoff_seconds,
                            self._tuning.max_retry_backoff_seconds)
            while not self._stop.is_set():
                batch = self._collect(connection, buffer)
                if not batch:
                    continue
                last_tag = batch[-1].delivery_tag
                if self._invoke_batch(connection, batch):
                    channel.basic_ack(last_tag, multiple=True)
                    retry.reset()
                else:
                    channel.basic_nack(last_tag, multiple=True, requeue=True)
                    self._pause(connection, retry.next())
                # Tags are in delivery order, so `multiple` settled exactly this batch.
                del buffer[:len(batch)]
        finally:
            if connection.is_open:
                try:
                    connection.close()
                except (AMQPError, OSError):
                    log.debug("closing a broken connection failed", exc_info=True)

    def _collect(self, connection: pika.BlockingConnection,
                 buffer: list[Delivery]) -> list[Delivery]:
        """Wait for a first message, then for more until the batch is full or the window ends."""
        while not buffer:
            if self._stop.is_set():
                return []
            connection.process_data_events(time_limit=IDLE_POLL_SECONDS)
        deadline = time.monotonic() + self.mapping.maximum_batching_window_seconds
        while len(buffer) < self.mapping.batch_size and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            connection.process_data_events(time_limit=remaining)
        return list(buffer[:self.mapping.batch_size])

    def _invoke_batch(self, connection: pika.BlockingConnection, batch: list[Delivery]) -> bool:
        """Run the function on the batch; True when it returned, False when it raised."""
        event = amazon_mq_event(self._target.arn, self.mapping.queue, self._target.vhost, batch)
        errors: list[BaseException] = []

        def call() -> None:
            try:
                self._invoke(event)
            except BaseException as exc:  # whatever the function raises fails the batch
                errors.append(exc)

        worker = threading.Thread(target=call, name=f"invoke-{self.mapping.function}", daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(WORKER_POLL_SECONDS)
                connection.process_data_events(time_limit=0)
        except BaseException:
            worker.join()  # one invocation at a time, even when the connection died under it
            raise
        with self._lock:
            self._status.invocations += 1
            self._status.messages += len(batch)
            if errors:
                self._status.failures += 1
                self._status.last_error = f"{type(errors[0]).__name__}: {errors[0]}"
        if errors:
            log.error("function raised; batch requeued", exc_info=errors[0], extra={
                "function": self.mapping.function, "messages": len(batch),
            })
            return False
        return True

    def _pause(self, connection: pika.BlockingConnection, seconds: float) -> None:
        """Wait before the next invocation while keeping the connection serviced."""
        deadline = time.monotonic() + seconds
        while not self._stop.is_set() and (remaining := deadline - time.monotonic()) > 0:
            connection.sleep(min(remaining, IDLE_POLL_SECONDS))
