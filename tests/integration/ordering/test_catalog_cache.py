"""The catalog cache on the real Redis: a hit is one round trip, and a write is never missed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.support.functions import function_module
from tests.support.stack import TEST_REDIS_DB

pytestmark = pytest.mark.integration

catalog_cache = function_module("product", "catalog_cache")


class CountingRedis(redis.Redis):  # type: ignore[type-arg]
    """A real client that counts the commands it sends (a pipeline would count once)."""

    commands: list[str]

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.commands.append(str(args[0]))
        return super().execute_command(*args, **options)


@pytest.fixture
def client() -> Iterator[CountingRedis]:
    counting = CountingRedis.from_url(f"redis://127.0.0.1:6379/{TEST_REDIS_DB}")
    counting.commands = []
    namespace = f"shoptest:{uuid.uuid4().hex[:8]}:product:catalog:"
    counting.namespace = namespace  # type: ignore[attr-defined]
    try:
        yield counting
    finally:
        keys = list(counting.scan_iter(namespace + "*"))
        if keys:
            counting.delete(*keys)
        counting.close()


def new_cache(client: CountingRedis) -> Any:
    return catalog_cache.CatalogCache(client, client.namespace,  # type: ignore[attr-defined]
                                      ttl_seconds=60)


def test_a_hit_is_one_round_trip(client: CountingRedis) -> None:
    cache = new_cache(client)
    assert cache.get_or_load(("list", "20"), lambda: '{"items": []}').source == "MISS"
    client.commands.clear()

    hit = cache.get_or_load(("list", "20"), lambda: "never loaded")

    assert hit.source == "HIT" and hit.body == '{"items": []}'
    assert client.commands == ["MGET"]


def test_a_write_makes_the_next_read_miss_and_then_hit_the_new_body(
    client: CountingRedis,
) -> None:
    cache = new_cache(client)
    cache.get_or_load(("list",), lambda: "old")
    cache.invalidate()
    assert cache.get_or_load(("list",), lambda: "new") == catalog_cache.Cached("new", "MISS")
    assert cache.get_or_load(("list",), lambda: "never") == catalog_cache.Cached("new", "HIT")


def test_a_load_that_raced_a_write_is_never_served(client: CountingRedis) -> None:
    cache = new_cache(client)
    cache.get_or_load(("list",), lambda: "warm")
    cache.invalidate()

    def load_while_a_write_commits() -> str:
        cache.invalidate()  # the write commits after this reader read the version
        return "read before the write"

    assert cache.get_or_load(("list",), load_while_a_write_commits).source == "MISS"
    after = cache.get_or_load(("list",), lambda: "read after the write")
    assert after == catalog_cache.Cached("read after the write", "MISS")


def test_an_old_version_never_matches_even_after_the_version_key_lapses(
    client: CountingRedis,
) -> None:
    cache = new_cache(client)
    cache.invalidate()
    cache.get_or_load(("list",), lambda: "stored under a version")
    client.delete(cache.version_key)  # it lapsed (its TTL ran out)
    assert cache.get_or_load(("list",), lambda: "fresh").source == "MISS"
    assert cache.get_or_load(("list",), lambda: "never").body == "fresh"
