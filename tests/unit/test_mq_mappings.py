"""The event-source mapping file as the emulator and the topology read it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shop_common.messaging import DEAD_LETTER_EXCHANGE, QueueSpec
from shop_local.mappings import MAPPINGS_FILE, MappingFileError, load_mapping_file
from shop_local.runtime.mq_consumer import Backoff


def write(tmp_path: Path, document: dict[str, object]) -> Path:
    path = tmp_path / "mappings.json"
    path.write_text(json.dumps(document))
    return path


def test_can_read_the_real_mapping_file() -> None:
    mappings = load_mapping_file(MAPPINGS_FILE, profile=None)
    assert {(m.function, m.queue, m.routing_key) for m in mappings.mappings} == {
        ("signup_email", "communication.signup_email", "user.signed_up"),
        ("order_invoice", "communication.order_invoice", "order.placed"),
    }
    assert all(m.batch_size == 100 and m.maximum_batching_window_seconds == 0.5
               for m in mappings.mappings)
    assert mappings.apps() == ["communication"]


def test_can_apply_the_local_profile() -> None:
    local = load_mapping_file(MAPPINGS_FILE)
    assert all(m.maximum_batching_window_seconds == 0.1 for m in local.mappings)


def test_can_follow_the_vhost_of_the_amqp_url() -> None:
    assert load_mapping_file(MAPPINGS_FILE).broker.vhost == "shop"
    moved = load_mapping_file(MAPPINGS_FILE, amqp_url="amqp://u:p@127.0.0.1:5672/shoptest-1")
    assert moved.broker.vhost == "shoptest-1"
    assert load_mapping_file(MAPPINGS_FILE, amqp_url="amqp://u:p@h:5672/%2F").broker.vhost == "/"


def test_can_turn_mappings_into_quorum_queues_with_a_dead_letter_path() -> None:
    specs = load_mapping_file(MAPPINGS_FILE).queue_specs()
    assert specs == [
        QueueSpec("communication.signup_email", ("user.signed_up",), 5),
        QueueSpec("communication.order_invoice", ("order.placed",), 5),
    ]
    arguments = specs[0].arguments()
    assert arguments["x-queue-type"] == "quorum"
    assert arguments["x-delivery-limit"] == 5
    assert arguments["x-dead-letter-exchange"] == DEAD_LETTER_EXCHANGE
    assert arguments["x-dead-letter-routing-key"] == "communication.signup_email"
    assert specs[0].dead_letter_queue == "communication.signup_email.dlq"


def test_can_bind_one_queue_to_several_routing_keys(tmp_path: Path) -> None:
    path = write(tmp_path, {"broker": {"delivery_limit": 3}, "mappings": [
        {"app": "a", "function": "f", "queue": "q", "routing_key": "x"},
        {"app": "a", "function": "g", "queue": "q", "routing_key": "y", "delivery_limit": 9},
    ]})
    assert load_mapping_file(path).queue_specs() == [QueueSpec("q", ("x", "y"), 9)]


@pytest.mark.parametrize("mapping", [
    {"app": "a", "function": "f", "queue": "q"},  # no routing key
    {"app": "a", "function": "f", "queue": "q", "routing_key": "x", "batch_size": 0},
    {"app": "a", "function": "f", "queue": "q", "routing_key": "x", "batch_sise": 5},
])
def test_cannot_read_a_malformed_mapping(tmp_path: Path, mapping: dict[str, object]) -> None:
    with pytest.raises(MappingFileError, match=r"mappings\.json"):
        load_mapping_file(write(tmp_path, {"mappings": [mapping]}))


def test_can_back_off_doubling_up_to_a_cap() -> None:
    backoff = Backoff(0.25, 1.0)
    assert [backoff.next() for _ in range(5)] == [0.25, 0.5, 1.0, 1.0, 1.0]
    backoff.reset()
    assert backoff.next() == 0.25
    assert Backoff(0.0, 1.0).next() == 0.0
