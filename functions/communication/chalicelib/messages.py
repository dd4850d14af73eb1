"""Reading an Amazon MQ (RabbitMQ) Lambda event into typed events, keeping what cannot be read.

The event is parsed with aws-lambda-powertools' RabbitMQ data class, the same code
whether the emulator or AWS built it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.utilities.data_classes.rabbit_mq_event import (
    RabbitMessage,
    RabbitMQEvent,
)
from pydantic import BaseModel

EventT = TypeVar("EventT", bound=BaseModel)


@dataclass(frozen=True)
class Unparseable:
    """A message no retry can fix: it is counted and left to the dead-letter path."""

    source: str
    message_id: str | None
    reason: str


@dataclass(frozen=True)
class Batch(Generic[EventT]):
    events: list[EventT]
    unparseable: list[Unparseable]


def message_id_of(message: RabbitMessage) -> str | None:
    try:
        value = message.basic_properties.message_id
    except (KeyError, TypeError):
        return None
    return str(value) if value is not None else None


def read_batch(event: dict[str, Any], model: type[EventT]) -> Batch[EventT]:
    batch: Batch[EventT] = Batch([], [])
    for source, messages in RabbitMQEvent(event).rmq_messages_by_queue.items():
        for message in messages:
            try:
                # ValueError covers bad base64, bad UTF-8, bad JSON and failed validation;
                # RecursionError, JSON nested too deep. Anything escaping here would fail
                # the batch before its good messages were sent, on every redelivery.
                batch.events.append(model.model_validate(message.json_data))
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                batch.unparseable.append(Unparseable(source, message_id_of(message), reason))
    return batch
