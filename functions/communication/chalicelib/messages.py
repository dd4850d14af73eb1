"""Reading an Amazon MQ (RabbitMQ) Lambda event into typed events, keeping what cannot be read.

The event is parsed with aws-lambda-powertools' RabbitMQ data class, the same code
whether the emulator or AWS built it (https://docs.aws.amazon.com/lambda/latest/dg/with-mq.html).
Bodies are read with JSON numbers as exact decimals, like request bodies, so an amount
is validated as it was written. A message that fails is kept with its body, properties
and the reason, so that it can be parked in its dead-letter queue as it arrived.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pika
from aws_lambda_powertools.utilities.data_classes.rabbit_mq_event import (
    RabbitMessage,
    RabbitMQEvent,
)
from pydantic import BaseModel, ValidationError

from shop_common.validation import field_errors, loads_exact

EventT = TypeVar("EventT", bound=BaseModel)

MAX_REASON_LENGTH = 500


@dataclass(frozen=True)
class Received:
    """One message as the event-source mapping delivered it."""

    queue: str
    body: bytes
    properties: pika.BasicProperties

    @property
    def message_id(self) -> str | None:
        value = self.properties.message_id
        return str(value) if value is not None else None


@dataclass(frozen=True)
class Parsed(Generic[EventT]):
    message: Received
    event: EventT


@dataclass(frozen=True)
class Unparseable:
    """A message no retry can fix, and why."""

    message: Received
    reason: str


@dataclass(frozen=True)
class Batch(Generic[EventT]):
    events: list[Parsed[EventT]]
    unparseable: list[Unparseable]


def header_from_event(value: Any) -> Any:
    """A header value back from the event's rendering: strings arrive as Java's signed
    bytes, `{"bytes": [...]}`."""
    if isinstance(value, dict):
        if set(value) == {"bytes"} and isinstance(value["bytes"], list):
            return bytes(b % 256 for b in value["bytes"]).decode("utf-8", "replace")
        return {str(k): header_from_event(v) for k, v in value.items()}
    if isinstance(value, list):
        return [header_from_event(v) for v in value]
    return value


def properties_of(message: RabbitMessage) -> pika.BasicProperties:
    """The AMQP properties worth keeping when the message is parked (the event renders
    `timestamp` as a Java date string, which is left out)."""
    raw = message.get("basicProperties") or {}
    headers = raw.get("headers")
    return pika.BasicProperties(
        content_type=raw.get("contentType"),
        content_encoding=raw.get("contentEncoding"),
        message_id=raw.get("messageId"),
        correlation_id=raw.get("correlationId"),
        type=raw.get("type"),
        app_id=raw.get("appId"),
        headers=header_from_event(headers) if isinstance(headers, dict) else None,
    )


def reason_of(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        text = "; ".join(f"{e.field}: {e.message}" for e in field_errors(exc))
    else:
        text = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
    return text[:MAX_REASON_LENGTH]


def read_batch(event: dict[str, Any], model: type[EventT]) -> Batch[EventT]:
    batch: Batch[EventT] = Batch([], [])
    for source, messages in RabbitMQEvent(event).rmq_messages_by_queue.items():
        queue = source.rsplit("::", 1)[0]
        for message in messages:
            try:
                body = base64.b64decode(message.data, validate=True)
            except (binascii.Error, ValueError, TypeError):
                raw = str(message.get("data") or "").encode()
                batch.unparseable.append(Unparseable(
                    Received(queue, raw, properties_of(message)), "the data is not base64"))
                continue
            received = Received(queue, body, properties_of(message))
            try:
                # ValueError covers bad UTF-8, bad JSON and failed validation;
                # RecursionError, JSON nested too deep. Anything escaping here would fail
                # the batch before its good messages were sent, on every redelivery.
                batch.events.append(Parsed(received, model.model_validate(loads_exact(body))))
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                batch.unparseable.append(Unparseable(received, reason_of(exc)))
    return batch
