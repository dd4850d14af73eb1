"""The Amazon MQ for RabbitMQ Lambda event, built from deliveries (no broker involved)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal

import pika
from aws_lambda_powertools.utilities.data_classes.rabbit_mq_event import RabbitMQEvent

from shop_local.runtime.rmq_event import (
    Delivery,
    amazon_mq_event,
    basic_properties,
    broker_arn,
    gson_date,
    header_value,
    java_bytes,
)

ARN = broker_arn("shop")


def test_can_key_messages_by_queue_and_vhost() -> None:
    deliveries = [Delivery(1, False, pika.BasicProperties(), b"one"),
                  Delivery(2, True, pika.BasicProperties(), b"two")]
    event = amazon_mq_event(ARN, "communication.signup_email", "shop", deliveries)
    assert event["eventSource"] == "aws:rmq"
    assert event["eventSourceArn"] == ARN
    [(key, messages)] = event["rmqMessagesByQueue"].items()
    assert key == "communication.signup_email::shop"
    assert [base64.b64decode(m["data"]) for m in messages] == [b"one", b"two"]
    assert [m["redelivered"] for m in messages] == [False, True]


def test_can_be_read_by_powertools() -> None:
    properties = pika.BasicProperties(content_type="application/json", message_id="e-1")
    event = amazon_mq_event(ARN, "q", "/", [Delivery(1, False, properties, b'{"a": 1}')])
    [message] = RabbitMQEvent(event).rmq_messages_by_queue["q::/"]
    assert message.json_data == {"a": 1}
    assert message.basic_properties.message_id == "e-1"
    assert message.basic_properties.content_type == "application/json"


def test_can_give_null_for_every_missing_property() -> None:
    props = basic_properties(pika.BasicProperties(), body_size=7)
    assert props == {
        "contentType": None, "contentEncoding": None, "headers": None, "deliveryMode": None,
        "priority": None, "correlationId": None, "replyTo": None, "expiration": None,
        "messageId": None, "timestamp": None, "type": None, "userId": None, "appId": None,
        "clusterId": None, "bodySize": 7,
    }


def test_can_render_headers_as_aws_does() -> None:
    assert header_value("value1") == {"bytes": [118, 97, 108, 117, 101, 49]}  # the AWS example
    assert header_value(b"\xff\x00") == {"bytes": [-1, 0]}
    assert header_value(10) == 10 and header_value(True) is True and header_value(None) is None
    assert header_value({"nested": "a", "n": 1}) == {"nested": {"bytes": [97]}, "n": 1}
    assert header_value(["a", 2]) == [{"bytes": [97]}, 2]
    assert header_value(Decimal("1.5")) == 1.5


def test_can_use_java_signed_bytes() -> None:
    assert java_bytes("é".encode()) == [-61, -87]
    assert java_bytes(bytes(range(126, 130))) == [126, 127, -128, -127]


def test_can_format_timestamps_like_gson() -> None:
    assert gson_date(datetime(1970, 1, 1, 0, 33, 41, tzinfo=UTC)) == "Jan 1, 1970, 12:33:41 AM"
    assert gson_date(datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)) == "Nov 14, 2023, 10:13:20 PM"
    assert gson_date(datetime(2024, 6, 5, 12, 0, 0, tzinfo=UTC)) == "Jun 5, 2024, 12:00:00 PM"
    props = basic_properties(pika.BasicProperties(timestamp=2001), body_size=0)
    assert props["timestamp"] == "Jan 1, 1970, 12:33:21 AM"


def test_can_name_a_stable_broker_arn() -> None:
    assert broker_arn("shop") == broker_arn("shop") != broker_arn("other")
    assert broker_arn("shop").startswith("arn:aws:mq:us-east-1:123456789012:broker:shop:b-")
