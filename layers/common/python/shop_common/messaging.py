"""RabbitMQ for the shop: connection parameters, the topology, and a confirming publisher.

The topology: events go to the topic exchange `shop.events`, routed by
event type. Each consumer queue is a quorum queue with a delivery limit and the
dead-letter exchange `shop.dlx`, which routes by queue name to `<queue>.dlq`. Both
settings matter on RabbitMQ 3.10: it sets no delivery limit by default (a poison
message would be redelivered forever), and a message past the limit with no
dead-letter exchange is dropped.

The publisher publishes with confirms and `mandatory`, so an event counts as
published only once the broker has taken responsibility for it in at least one
queue. It never raises: whatever it could not publish stays in the outbox for the
relay (shop_common.outbox_relay).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from urllib.parse import urlsplit

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import (
    AMQPConnectionError,
    AMQPError,
    ChannelClosedByBroker,
    NackError,
    UnroutableError,
)

from shop_common.breaker import CircuitBreaker
from shop_common.config import Settings

# The topology's names and queue specs live in a module without pika, for the tools that only
# read them (`shop status`, the mapping file's reader); imported from here as before.
from shop_common.topology import DEAD_LETTER_EXCHANGE as DEAD_LETTER_EXCHANGE
from shop_common.topology import DEFAULT_DELIVERY_LIMIT as DEFAULT_DELIVERY_LIMIT
from shop_common.topology import EXCHANGE as EXCHANGE
from shop_common.topology import QueueSpec as QueueSpec
from shop_common.topology import vhost_of as vhost_of

log = logging.getLogger("shop.messaging")

JSON = "application/json"
PERSISTENT = 2
PRECONDITION_FAILED = 406


class TopologyError(RuntimeError):
    """The broker holds a queue or exchange declared differently; the message says how to fix it."""


class BrokerUserMissing(AMQPConnectionError):  # type: ignore[misc]
    """The AMQP URL names no user: pika would log in as `guest`, which the shop never uses."""


def connection_parameters(
    amqp_url: str, *, timeout: float, heartbeat: int | None = None
) -> pika.URLParameters:
    """Parameters that fail within about `timeout` seconds instead of pika's 10-15 s defaults.

    Raises BrokerUserMissing (an AMQPConnectionError, so callers treat it as a broker
    they cannot reach) for a URL without a user, on which pika would use `guest`.
    """
    if not urlsplit(amqp_url).username:
        raise BrokerUserMissing(
            f"the broker URL for vhost {vhost_of(amqp_url)!r} names no user; each service "
            "has its own (SHOP_<SERVICE>_AMQP_URL, written by `shop setup`)")
    parameters = pika.URLParameters(amqp_url)
    parameters.connection_attempts = 1
    parameters.socket_timeout = timeout
    parameters.stack_timeout = timeout
    parameters.blocked_connection_timeout = timeout
    if heartbeat is not None:
        parameters.heartbeat = heartbeat
    return parameters


def declare_topology(channel: BlockingChannel, queues: Iterable[QueueSpec]) -> None:
    """Declare the exchanges, the queues and their bindings; safe to repeat."""
    try:
        channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
        channel.exchange_declare(DEAD_LETTER_EXCHANGE, exchange_type="direct", durable=True)
        for queue in queues:
            channel.queue_declare(queue.dead_letter_queue, durable=True,
                                  arguments={"x-queue-type": "quorum"})
            channel.queue_bind(queue.dead_letter_queue, DEAD_LETTER_EXCHANGE,
                               routing_key=queue.name)
            channel.queue_declare(queue.name, durable=True, arguments=queue.arguments())
            for routing_key in queue.routing_keys:
                channel.queue_bind(queue.name, EXCHANGE, routing_key=routing_key)
    except ChannelClosedByBroker as exc:
        if exc.reply_code == PRECONDITION_FAILED:
            raise TopologyError(
                f"{exc.reply_text}: a queue or exchange exists with other settings; delete it "
                "(`rabbitmqctl delete_queue -p <vhost> <queue>`) and start again"
            ) from exc
        raise


def declare_topology_at(amqp_url: str, queues: Iterable[QueueSpec], timeout: float = 10) -> None:
    """Connect to `amqp_url`, declare the topology for `queues` (`declare_topology`), disconnect.

    `timeout` is in seconds, for the connection and each step. Raises BrokerUserMissing for
    a URL without a user, TopologyError when the broker holds a queue or exchange declared
    differently, and pika's AMQPError (or OSError) when the broker cannot be reached.
    """
    connection = pika.BlockingConnection(connection_parameters(amqp_url, timeout=timeout))
    try:
        declare_topology(connection.channel(), queues)
    finally:
        if connection.is_open:
            connection.close()


@dataclass(frozen=True)
class OutgoingEvent:
    """One outbox row on its way out: the body is exactly the outbox payload."""

    event_id: str
    event_type: str
    body: bytes
    occurred_at: datetime | None = None

    def properties(self, app_id: str) -> pika.BasicProperties:
        """The AMQP 0-9-1 basic properties the event is published with.

        `message_id` is the event id (consumers deduplicate by it), `type` the event type,
        `app_id` the publishing app, JSON content type, persistent delivery mode (2) and
        `timestamp` as whole seconds since the epoch (None when `occurred_at` is unknown).
        """
        return pika.BasicProperties(
            message_id=self.event_id,  # the idempotency key, also readable without the body
            content_type=JSON,
            delivery_mode=PERSISTENT,
            type=self.event_type,
            app_id=app_id,
            timestamp=int(self.occurred_at.timestamp()) if self.occurred_at else None,
        )


class EventPublisher:
    """One confirming channel per process, shared by its threads under a lock.

    pika connections are not thread-safe, and the local host serves each request on
    its own thread, so publishing is serialized; a publish with confirms to a local
    broker takes about a millisecond. The connection runs without heartbeats: it is
    idle between requests, when nothing would answer them, and a connection that
    died meanwhile is replaced once before a publish is declared failed.
    """

    def __init__(self, amqp_url: str, app_id: str, timeout_seconds: float,
                 breaker: CircuitBreaker) -> None:
        self._url = amqp_url
        self._app_id = app_id
        self._timeout = timeout_seconds
        self._breaker = breaker
        self._lock = threading.Lock()
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def available(self) -> bool:
        """False while the breaker is open after a failure: callers leave events to the relay."""
        return self._breaker.allows()

    def publish(self, events: Sequence[OutgoingEvent], *, force: bool = False) -> set[str]:
        """Publish in order; return the ids the broker confirmed. Never raises.

        `force` ignores the breaker: the relay uses it, because its run is the probe
        that finds the broker back.
        """
        if not events or not (force or self._breaker.allows()):
            return set()
        if not self._lock.acquire(timeout=self._timeout):
            log.warning("publisher busy; events left to the outbox relay",
                        extra={"events": len(events)})
            return set()
        try:
            return self._publish_locked(events)
        finally:
            self._lock.release()

    def close(self) -> None:
        """Close the connection, if any; waits for a publish in progress. Never raises."""
        with self._lock:
            self._discard()

    def _publish_locked(self, events: Sequence[OutgoingEvent]) -> set[str]:
        confirmed: set[str] = set()
        remaining = list(events)
        for attempt in (1, 2):
            reused = self._channel is not None
            try:
                channel = self._open_channel()
                while remaining:
                    event = remaining[0]
                    try:
                        channel.basic_publish(
                            EXCHANGE, event.event_type, event.body,
                            event.properties(self._app_id), mandatory=True,
                        )
                        confirmed.add(event.event_id)
                    except (UnroutableError, NackError) as exc:
                        # Not in any queue: keep it in the outbox until the topology is there.
                        log.warning("event not accepted by the broker", extra={
                            "event_id": event.event_id, "event_type": event.event_type,
                            "reason": type(exc).__name__,
                        })
                    remaining.pop(0)
            except (AMQPError, OSError) as exc:
                self._discard()
                if attempt == 1 and reused:
                    continue
                self._breaker.record_failure()
                log.warning("broker unavailable; events left to the outbox relay", extra={
                    "error": type(exc).__name__, "unpublished": len(remaining),
                })
                return confirmed
            self._breaker.record_success()
            return confirmed
        return confirmed

    def _open_channel(self) -> BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self._discard()
        self._connection = pika.BlockingConnection(
            connection_parameters(self._url, timeout=self._timeout, heartbeat=0)
        )
        channel = self._connection.channel()
        channel.confirm_delivery()
        # Passive: a service's broker user may not configure anything (its only right
        # is to publish its own routing keys), and a passive declare needs no
        # permission. A missing exchange fails here, before any event is sent, and
        # leaves the events in the outbox for the relay.
        channel.exchange_declare(EXCHANGE, passive=True)
        self._channel = channel
        return channel

    def _discard(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(AMQPError, OSError):  # already broken: nothing to release
                connection.close()


PARKED_REASON_HEADER = "x-shop-parked-reason"
PARKED_FROM_HEADER = "x-shop-parked-from"


class ParkingError(RuntimeError):
    """The broker did not take a parked message; the caller must not acknowledge it."""


@dataclass(frozen=True)
class MessageToPark:
    """A delivered message that can never be processed, on its way to `<queue>.dlq`."""

    queue: str
    body: bytes
    properties: pika.BasicProperties
    reason: str

    def parked_properties(self) -> pika.BasicProperties:
        """The original message's properties for its dead-letter copy.

        Persistent (delivery mode 2), with `x-shop-parked-reason` (the reason) and
        `x-shop-parked-from` (the source queue) added to its headers. Properties not
        copied (expiration, priority, timestamp, reply_to, user_id, cluster_id) are dropped.
        """
        headers = {**(self.properties.headers or {}),
                   PARKED_REASON_HEADER: self.reason, PARKED_FROM_HEADER: self.queue}
        return pika.BasicProperties(
            content_type=self.properties.content_type,
            content_encoding=self.properties.content_encoding,
            message_id=self.properties.message_id,
            correlation_id=self.properties.correlation_id,
            type=self.properties.type,
            app_id=self.properties.app_id,
            delivery_mode=PERSISTENT,
            headers=headers,
        )


def park_messages(amqp_url: str, messages: Sequence[MessageToPark], timeout: float) -> None:
    """Put each message into its queue's dead-letter queue, with the reason in a header.

    The way the broker itself dead-letters (through `shop.dlx`, routed by queue name), but
    at once instead of after the delivery limit: a consumer whose event source redelivers
    whole batches (Amazon MQ has no partial-batch response) parks what can never succeed
    so the rest of the batch is not retried along with it. Published with confirms and
    `mandatory`; raises ParkingError unless the broker took every message.
    """
    if not messages:
        return
    try:
        connection = pika.BlockingConnection(connection_parameters(amqp_url, timeout=timeout))
    except (AMQPError, OSError) as exc:
        raise ParkingError(f"broker unavailable: {type(exc).__name__}") from exc
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for message in messages:
            channel.basic_publish(DEAD_LETTER_EXCHANGE, message.queue, message.body,
                                  message.parked_properties(), mandatory=True)
    except (AMQPError, OSError) as exc:  # UnroutableError, NackError included
        raise ParkingError(f"not parked: {type(exc).__name__}") from exc
    finally:
        if connection.is_open:
            with contextlib.suppress(AMQPError, OSError):
                connection.close()


def quiet_pika() -> None:
    """pika logs every connection step at INFO and a refused connection as a stack of
    ERRORs with tracebacks; the shop logs one line of its own for each failure instead."""
    logging.getLogger("pika").setLevel(logging.CRITICAL)


@cache
def _publisher(service: str, amqp_url: str, timeout: float, breaker_seconds: float
               ) -> EventPublisher:
    quiet_pika()
    return EventPublisher(amqp_url, f"shop-{service}", timeout, CircuitBreaker(breaker_seconds))


def get_publisher(settings: Settings) -> EventPublisher:
    """This process's publisher for the service's broker, created on first use."""
    return _publisher(settings.service_name, str(settings.amqp_url),
                      settings.amqp_publish_timeout_seconds, settings.amqp_breaker_seconds)

