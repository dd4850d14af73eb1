"""Inside a Lambda execution environment a service talks to Redis over one connection.

Checked against a private redis-server: the connection is opened by the first command
(an environment started during an outage still starts) and kept for the next ones.
A command that finds it broken fails, as any command does while Redis is down; the
next command opens a new one.
"""

from __future__ import annotations

import os
import threading

import pytest
import redis
from pydantic import AnyUrl

from shop_common.cache import RedisClient, create_redis
from shop_common.config import Settings
from tests.support.private_servers import PrivateRedis

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
def server(request: pytest.FixtureRequest) -> PrivateRedis:
    """A redis-server of this test's own, which it may stop and start."""
    private = PrivateRedis()
    request.addfinalizer(private.remove)
    private.start()
    return private


def lambda_client(monkeypatch: pytest.MonkeyPatch, url: str) -> RedisClient:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "shop-product-dev")
    return create_redis(Settings.model_construct(redis_url=AnyUrl(url)))


def connection_id(client: RedisClient) -> int:
    return int(client.execute_command("CLIENT", "ID"))


def test_can_start_while_redis_is_down_and_connect_on_first_command(
        monkeypatch: pytest.MonkeyPatch, server: PrivateRedis) -> None:
    server.stop()
    client = lambda_client(monkeypatch, server.admin_url)
    with pytest.raises(redis.ConnectionError):
        client.get("catalog:version")
    server.start()
    assert client.get("catalog:version") is None


def test_can_serve_every_command_over_one_connection(
        monkeypatch: pytest.MonkeyPatch, server: PrivateRedis) -> None:
    client = lambda_client(monkeypatch, server.admin_url)
    first = connection_id(client)
    client.set("k", b"v")
    assert client.mget("k", "missing") == [b"v", None]
    assert connection_id(client) == first
    admin = redis.Redis.from_url(server.admin_url)
    assert len(admin.client_list()) == 2  # this client's one connection and admin's


def test_can_reconnect_after_redis_dropped_the_connection(
        monkeypatch: pytest.MonkeyPatch, server: PrivateRedis) -> None:
    client = lambda_client(monkeypatch, server.admin_url)
    first = connection_id(client)
    redis.Redis.from_url(server.admin_url).client_kill_filter(_id=first)
    with pytest.raises(redis.ConnectionError):  # nothing polls the socket before a command
        client.set("k", b"v")
    client.set("k", b"v")
    assert client.get("k") == b"v"
    assert connection_id(client) != first


def test_can_reconnect_after_a_redis_restart(
        monkeypatch: pytest.MonkeyPatch, server: PrivateRedis) -> None:
    client = lambda_client(monkeypatch, server.admin_url)
    client.set("k", b"v")
    server.stop()
    with pytest.raises(redis.ConnectionError):
        client.get("k")
    server.start()
    assert client.get("k") is None  # a fresh server: the broken connection was replaced


def test_threads_never_share_the_connection_mid_command(
        monkeypatch: pytest.MonkeyPatch, server: PrivateRedis) -> None:
    # An environment serves one invocation at a time, but a handler may still start
    # threads: each command must get its own reply, never another thread's.
    client = lambda_client(monkeypatch, server.admin_url)
    keys = [f"thread:{n}" for n in range(4)]
    for key in keys:
        client.set(key, key.encode())
    wrong: list[object] = []

    def read_own(key: str) -> None:
        for _ in range(300):
            try:
                value = client.get(key)
            except redis.RedisError as exc:
                wrong.append(exc)
                return
            if value != key.encode():
                wrong.append(value)

    threads = [threading.Thread(target=read_own, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert wrong == []
    assert len(redis.Redis.from_url(server.admin_url).client_list()) == 2  # still one


def test_a_forked_process_opens_its_own_connection(
        monkeypatch: pytest.MonkeyPatch, server: PrivateRedis) -> None:
    client = lambda_client(monkeypatch, server.admin_url)
    parents = connection_id(client)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child reports its connection's id, or -1
        try:
            answer = str(connection_id(client)).encode()
        except BaseException:
            answer = b"-1"
        os.write(write_end, answer)
        os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)
    with os.fdopen(read_end, "rb") as reader:
        childs = int(reader.read() or b"-1")
    assert childs not in (parents, -1)
    assert connection_id(client) == parents  # the parent's connection is untouched
