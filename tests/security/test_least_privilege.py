"""Each service's broker and cache credentials do what that service needs, and nothing else.

The attacks this closes: with one shared broker account anyone could publish
`order.placed` to make the shop email anyone, or bind a queue to `#` and read every
event; with one shared Redis login anyone could read, list or flush every service's
keys. The throw-away stack creates its users exactly as `shop setup` does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pika
import pytest
import redis
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import ChannelClosedByBroker, ProbableAccessDeniedError

from shop_common.messaging import DEAD_LETTER_EXCHANGE, EXCHANGE
from tests.integration.events.support import drain
from tests.support.stack import ThrowawayStack

pytestmark = pytest.mark.integration

ACCESS_REFUSED = 403
SIGNUP_QUEUE = "communication.signup_email"


@contextmanager
def channel_of(amqp_url: str) -> Iterator[BlockingChannel]:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        yield channel
    finally:
        if connection.is_open:
            connection.close()


def refused(amqp_url: str, action: str, *args: object) -> ChannelClosedByBroker:
    """Run one channel method; the broker must close the channel with ACCESS_REFUSED."""
    with channel_of(amqp_url) as channel, pytest.raises(ChannelClosedByBroker) as closed:
        getattr(channel, action)(*args)
    assert closed.value.reply_code == ACCESS_REFUSED, closed.value
    assert "ACCESS_REFUSED" in closed.value.reply_text
    return closed.value


def invoice_body() -> bytes:
    return json.dumps({
        "event_id": str(uuid.uuid4()), "type": "order.placed",
        "occurred_at": "2025-01-01T00:00:00Z",
        "data": {"order_id": str(uuid.uuid4()), "email": "victim@example.com", "total": "0.01"},
    }).encode()


def test_user_service_cannot_publish_order_placed(stack: ThrowawayStack) -> None:
    closed = refused(stack.amqp_url("user"), "basic_publish", EXCHANGE, "order.placed",
                     invoice_body())
    assert "order.placed" in closed.reply_text


def test_user_service_can_publish_its_own_event(stack: ThrowawayStack) -> None:
    marker = f'{{"probe": "{uuid.uuid4()}"}}'.encode()
    with channel_of(stack.amqp_url("user")) as channel:
        channel.basic_publish(EXCHANGE, "user.signed_up", marker, mandatory=True)  # confirmed
    # The queue also holds the session's sign-ups (no emulator consumes it here).
    assert marker in [body for _, body in drain(stack.admin_amqp_url, SIGNUP_QUEUE)]


@pytest.mark.parametrize("service", ["user", "order", "product", "communication"])
def test_no_service_can_bind_a_queue_to_everything(stack: ThrowawayStack, service: str) -> None:
    url = stack.amqp_url(service)
    # Neither a queue of its own to bind, nor someone else's queue bound to `#`.
    refused(url, "queue_declare", "", False, False, True)  # exclusive, server-named
    refused(url, "queue_bind", SIGNUP_QUEUE, EXCHANGE, "#")


@pytest.mark.parametrize("service", ["user", "order", "product"])
def test_no_other_service_can_read_the_communication_queues(
        stack: ThrowawayStack, service: str) -> None:
    refused(stack.amqp_url(service), "basic_get", SIGNUP_QUEUE)


def test_communication_reads_its_queues_and_may_only_park_messages(
        stack: ThrowawayStack) -> None:
    url = stack.amqp_url("communication")
    with channel_of(url) as channel:
        channel.basic_get(SIGNUP_QUEUE)  # allowed (empty or not)
        # A message that can never succeed is parked in <queue>.dlq by the function.
        channel.basic_publish(DEAD_LETTER_EXCHANGE, SIGNUP_QUEUE, b"poison", mandatory=True)
    parked = drain(stack.admin_amqp_url, f"{SIGNUP_QUEUE}.dlq")
    assert b"poison" in [body for _, body in parked]
    refused(url, "basic_publish", EXCHANGE, "user.signed_up", b"{}")
    refused(url, "exchange_delete", EXCHANGE)


def test_product_may_connect_and_nothing_more(stack: ThrowawayStack) -> None:
    url = stack.amqp_url("product")
    refused(url, "basic_publish", EXCHANGE, "order.placed", invoice_body())
    refused(url, "basic_publish", DEAD_LETTER_EXCHANGE, SIGNUP_QUEUE, b"x")


def test_guest_cannot_enter_the_stacks_vhost(stack: ThrowawayStack) -> None:
    vhost_url = stack.amqp_url("user").split("@", 1)[1]
    with pytest.raises((ProbableAccessDeniedError, pika.exceptions.ConnectionClosedByBroker)):
        pika.BlockingConnection(pika.URLParameters(f"amqp://guest:guest@{vhost_url}")).close()


# -- Redis ------------------------------------------------------------------------------


def cache_of(stack: ThrowawayStack, service: str) -> redis.Redis[bytes]:
    return redis.Redis.from_url(stack.redis_url(service), socket_timeout=5)


def test_a_service_reads_and_writes_only_its_own_keys(stack: ThrowawayStack) -> None:
    user, product = cache_of(stack, "user"), cache_of(stack, "product")
    own = stack.redis_prefix("user") + "probe"
    try:
        user.set(own, "mine", ex=30)
        assert user.get(own) == b"mine"
        with pytest.raises(redis.exceptions.NoPermissionError):
            product.get(own)
        with pytest.raises(redis.exceptions.NoPermissionError):
            product.set(own, "overwritten")
        with pytest.raises(redis.exceptions.NoPermissionError):
            product.eval("return redis.call('get', KEYS[1])", 1, own)
    finally:
        user.delete(own)


@pytest.mark.parametrize("command", [
    ("KEYS", "*"), ("FLUSHALL",), ("FLUSHDB",), ("CONFIG", "GET", "requirepass"),
    ("SCAN", "0"), ("INFO",), ("SCRIPT", "FLUSH"), ("FUNCTION", "FLUSH"), ("ACL", "LIST"),
    ("CLIENT", "LIST"), ("PUBLISH", "anything", "x"), ("DBSIZE",),
])
def test_administrative_and_listing_commands_are_refused(
        stack: ThrowawayStack, command: tuple[str, ...]) -> None:
    with pytest.raises(redis.exceptions.NoPermissionError):
        cache_of(stack, "product").execute_command(*command)


def test_the_users_run_what_the_cache_and_the_throttle_need(stack: ThrowawayStack) -> None:
    cache = cache_of(stack, "product")
    key = stack.redis_prefix("product") + f"needs:{uuid.uuid4().hex}"
    try:
        assert cache.ping()
        assert cache.set(key + ":lock", "t", nx=True, px=1000)
        with cache.pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, 30)
            assert pipe.execute() == [1, True]
        assert cache.eval("return redis.call('incr', KEYS[1])", 1, key) == 2
        assert cache.ttl(key) > 0 and cache.exists(key + ":lock") == 1
    finally:
        cache.delete(key, key + ":lock")
