"""The Lambda event of an Amazon MQ for RabbitMQ event-source mapping, built from deliveries.

Field by field as AWS sends it (https://docs.aws.amazon.com/lambda/latest/dg/with-mq.html):
messages grouped under `"<queue>::<vhost>"`, the body base64-encoded, every AMQP basic
property present with null when missing, and string header values as `{"bytes": [...]}`.
AWS's poller serializes with Java's Gson, which shows in two places reproduced here:
header bytes are Java's signed bytes (-128..127), and `timestamp` is Gson's default
date format ("Jan 1, 1970, 12:33:41 AM", UTC as Lambda runs in UTC).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pika

from shop_local.aws_local import LOCAL_ACCOUNT, LOCAL_REGION

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Delivery:
    """One message as the consumer received it."""

    delivery_tag: int
    redelivered: bool
    properties: pika.BasicProperties
    body: bytes


def broker_arn(broker_name: str, region: str = LOCAL_REGION, account: str = LOCAL_ACCOUNT) -> str:
    """An Amazon MQ broker ARN, `arn:aws:mq:<region>:<account>:broker:<name>:b-<uuid>`.

    The id is derived from `broker_name`, so it is the same every run.
    """
    # Amazon MQ broker ids look like "b-<uuid>"; a name-derived one stays stable across runs.
    broker_id = f"b-{uuid.uuid5(uuid.NAMESPACE_DNS, broker_name + '.mq.local')}"
    return f"arn:aws:mq:{region}:{account}:broker:{broker_name}:{broker_id}"


def java_bytes(data: bytes) -> list[int]:
    """`data` as Java's signed bytes (-128..127), as Gson writes a byte array."""
    return [b - 256 if b > 127 else b for b in data]


def gson_date(moment: datetime) -> str:
    """`moment` in UTC in Gson's default date format, e.g. "Jan 1, 1970, 12:33:41 AM".

    A 12-hour clock, with no leading zero on the hour or the day.
    """
    moment = moment.astimezone(UTC)
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return (f"{MONTHS[moment.month - 1]} {moment.day}, {moment.year}, "
            f"{hour}:{moment.minute:02d}:{moment.second:02d} {half}")


def header_value(value: Any) -> Any:
    """A header value as AWS renders it: strings (AMQP long strings) become byte arrays."""
    if isinstance(value, str):
        return {"bytes": java_bytes(value.encode())}
    if isinstance(value, bytes | bytearray):
        return {"bytes": java_bytes(bytes(value))}
    if isinstance(value, dict):
        return {str(k): header_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [header_value(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return gson_date(value if value.tzinfo else value.replace(tzinfo=UTC))
    return value  # bool, int, float, None


def basic_properties(properties: pika.BasicProperties, body_size: int) -> dict[str, Any]:
    """The `basicProperties` of one message in the event.

    Every AMQP 0-9-1 basic property under its Java name, None when missing; headers as
    `header_value` renders them, `timestamp` as `gson_date`, and `bodySize` in bytes.
    """
    headers = None
    if properties.headers is not None:
        headers = {str(k): header_value(v) for k, v in properties.headers.items()}
    timestamp = None
    if properties.timestamp is not None:
        timestamp = gson_date(datetime.fromtimestamp(properties.timestamp, UTC))
    return {
        "contentType": properties.content_type,
        "contentEncoding": properties.content_encoding,
        "headers": headers,
        "deliveryMode": properties.delivery_mode,
        "priority": properties.priority,
        "correlationId": properties.correlation_id,
        "replyTo": properties.reply_to,
        "expiration": properties.expiration,
        "messageId": properties.message_id,
        "timestamp": timestamp,
        "type": properties.type,
        "userId": properties.user_id,
        "appId": properties.app_id,
        "clusterId": properties.cluster_id,
        "bodySize": body_size,
    }


def rmq_message(delivery: Delivery) -> dict[str, Any]:
    """One message of the event: its `basicProperties`, `redelivered` flag and base64 `data`."""
    return {
        "basicProperties": basic_properties(delivery.properties, len(delivery.body)),
        "redelivered": delivery.redelivered,
        "data": base64.b64encode(delivery.body).decode("ascii"),
    }


def amazon_mq_event(arn: str, queue: str, vhost: str,
                    deliveries: Sequence[Delivery]) -> dict[str, Any]:
    """The Lambda event for one batch, as "Using Lambda with Amazon MQ" shows it.

    `eventSource` "aws:rmq", the broker ARN, and the messages, in delivery order, under
    `"<queue>::<vhost>"`.
    """
    return {
        "eventSource": "aws:rmq",
        "eventSourceArn": arn,
        "rmqMessagesByQueue": {f"{queue}::{vhost}": [rmq_message(d) for d in deliveries]},
    }
