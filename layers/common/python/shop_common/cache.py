"""Redis clients: one logical database and one key prefix per service."""

from __future__ import annotations

from typing import TYPE_CHECKING

import redis

from shop_common.config import Settings

# The stubs make Redis generic in its reply type; the runtime class is not
# subscriptable, so the parameterized name exists only for the type checker.
if TYPE_CHECKING:
    RedisClient = redis.Redis[bytes]
else:
    RedisClient = redis.Redis


def create_redis(settings: Settings) -> RedisClient:
    """A client of `settings.redis_url` (the service's own ACL user and logical database).

    Connects lazily: nothing is sent before the first command. Timeouts are 0.5 s, and a
    failed command raises redis.RedisError rather than being retried.
    """
    # Short timeouts: Redis is a cache and a throttle here, never worth a slow request.
    return redis.Redis.from_url(
        str(settings.redis_url),
        socket_connect_timeout=0.5,
        socket_timeout=0.5,
        health_check_interval=30,
        retry_on_timeout=False,
    )
