"""The emulator hands functions the Amazon MQ for RabbitMQ event, field by field.

A recorder app (apps/recorder) writes down every event it gets. Reference:
https://docs.aws.amazon.com/lambda/latest/dg/with-mq.html (the RabbitMQ example).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pika
import pytest

from shop_common.messaging import declare_topology_at, vhost_of
from shop_local.mappings import load_mapping_file
from tests.integration.events.support import (
    EmulatorProcess,
    publish_many,
    start_emulator,
    wait_until,
    write_mappings,
)
from tests.support.stack import ThrowawayStack

pytestmark = pytest.mark.integration

APPS = Path(__file__).parent / "apps"
PROPERTY_NAMES = [
    "contentType", "contentEncoding", "headers", "deliveryMode", "priority", "correlationId",
    "replyTo", "expiration", "messageId", "timestamp", "type", "userId", "appId", "clusterId",
    "bodySize",
]
ARN = re.compile(r"arn:aws:mq:us-east-1:123456789012:broker:shop:b-[0-9a-f-]{36}")


@pytest.fixture(scope="module")
def recorder(events_stack: ThrowawayStack, amqp_url: str,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmulatorProcess, Path]]:
    folder = tmp_path_factory.mktemp("recorder")
    mappings = write_mappings(folder / "mappings.json", mappings=[
        {"app": "recorder", "function": "record", "queue": "recorder.single",
         "routing_key": "recorder.single", "batch_size": 10,
         "maximum_batching_window_seconds": 0.5},
        {"app": "recorder", "function": "record", "queue": "recorder.batched",
         "routing_key": "recorder.batched", "batch_size": 3,
         "maximum_batching_window_seconds": 0.5},
    ])
    declare_topology_at(amqp_url, load_mapping_file(mappings).queue_specs())
    out = folder / "events.jsonl"
    out.touch()
    emulator = start_emulator(events_stack, "recorder-emulator", mappings, "recorder",
                              functions_dir=APPS, RECORDER_OUT=str(out),
                              # Its queues are the test's own: the run's administrator reads them.
                              SHOP_AMQP_URL=amqp_url)
    try:
        emulator.wait_consuming()
        yield emulator, out
    finally:
        emulator.stop()


def recorded(out: Path, queue_key: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in out.read_text().splitlines() if line]
    return [line for line in lines if queue_key in line["event"]["rmqMessagesByQueue"]]


def test_can_hand_over_the_amazon_mq_event(
    recorder: tuple[EmulatorProcess, Path], amqp_url: str
) -> None:
    _, out = recorder
    vhost = vhost_of(amqp_url)
    body = json.dumps({"fail_unless_redelivered": True, "note": "héllo"}).encode()
    properties = pika.BasicProperties(
        content_type="application/json", delivery_mode=2, message_id="m-1",
        timestamp=1_700_000_000, app_id="tests", type="recorder.test",
        headers={"trace": "abc-é", "attempt": 3, "flag": True},
    )
    publish_many(amqp_url, [("recorder.single", body, properties)])

    key = f"recorder.single::{vhost}"
    wait_until(lambda: len(recorded(out, key)) >= 2, what="a delivery and its redelivery")
    first, second = recorded(out, key)[:2]
    for line in (first, second):
        event = line["event"]
        assert list(event) == ["eventSource", "eventSourceArn", "rmqMessagesByQueue"]
        assert event["eventSource"] == "aws:rmq"
        assert ARN.fullmatch(event["eventSourceArn"])
        assert list(event["rmqMessagesByQueue"]) == [key]
        [message] = event["rmqMessagesByQueue"][key]
        assert list(message) == ["basicProperties", "redelivered", "data"]
        assert base64.b64decode(message["data"]) == body
        props = message["basicProperties"]
        assert list(props) == PROPERTY_NAMES
        assert props["contentType"] == "application/json"
        assert props["deliveryMode"] == 2
        assert props["messageId"] == "m-1"
        assert props["type"] == "recorder.test" and props["appId"] == "tests"
        assert props["timestamp"] == "Nov 14, 2023, 10:13:20 PM"
        assert props["bodySize"] == len(body)
        for missing in ("contentEncoding", "priority", "correlationId", "replyTo",
                        "expiration", "userId", "clusterId"):
            assert props[missing] is None, missing
        headers = props["headers"]
        # Strings as Java's signed bytes: "é" is 0xC3 0xA9.
        assert headers["trace"] == {"bytes": [97, 98, 99, 45, -61, -87]}
        assert headers["attempt"] == 3 and headers["flag"] is True
        # What the function's own Chalice configuration sets, app-wide and per function.
        assert line["environment"] == {"RECORDER_CONFIGURED": "from-chalice-config",
                                        "RECORDER_FUNCTION_SETTING": "record-only"}
        assert line["function_name"] == "shop-recorder-dev-record"

    assert first["event"]["rmqMessagesByQueue"][key][0]["redelivered"] is False
    redelivered = second["event"]["rmqMessagesByQueue"][key][0]
    assert redelivered["redelivered"] is True
    # The quorum queue counts deliveries in a header, which AWS passes on too.
    assert redelivered["basicProperties"]["headers"]["x-delivery-count"] == 1


def test_can_batch_up_to_the_batch_size(
    recorder: tuple[EmulatorProcess, Path], amqp_url: str
) -> None:
    _, out = recorder
    key = f"recorder.batched::{vhost_of(amqp_url)}"
    bodies = [json.dumps({"n": n}).encode() for n in range(7)]
    publish_many(amqp_url, [("recorder.batched", b, pika.BasicProperties()) for b in bodies])

    def batches() -> list[list[bytes]]:
        return [[base64.b64decode(m["data"]) for m in line["event"]["rmqMessagesByQueue"][key]]
                for line in recorded(out, key)]

    wait_until(lambda: sum(map(len, batches())) >= 7, what="all seven messages")
    sizes = [len(batch) for batch in batches()]
    assert max(sizes) == 3 and sum(sizes) == 7, sizes
    assert [b for batch in batches() for b in batch] == bodies  # in order, each once
    # One invocation at a time per mapping.
    runs = sorted((line["started"], line["finished"]) for line in recorded(out, key))
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(runs))
    # A message with no properties at all: every property is null, headers included.
    first = recorded(out, key)[0]["event"]["rmqMessagesByQueue"][key][0]["basicProperties"]
    assert first["headers"] is None and first["contentType"] is None
    assert first["bodySize"] == len(bodies[0])
