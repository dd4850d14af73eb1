"""Redis clients: one logical database and one key prefix per service."""

from __future__ import annotations

import os
import threading
import weakref
from typing import TYPE_CHECKING, Any

import redis
from redis.connection import Connection, ConnectionPool

from shop_common.config import Settings
from shop_common.logs import in_lambda

# The stubs make Redis generic in its reply type; the runtime class is not
# subscriptable, so the parameterized name exists only for the type checker.
if TYPE_CHECKING:
    RedisClient = redis.Redis[bytes]
else:
    RedisClient = redis.Redis


class OneConnectionPool(ConnectionPool):
    """A pool that lends its one connection to every command, for a one-command-at-a-time process.

    A Lambda execution environment serves one invocation at a time, so nothing
    normally waits for the connection. The stock checkout (lock, a poll of the
    socket, bookkeeping, then the release) was a third of a cached `GET /products`
    MGET's CPU. redis-py's `single_connection_client=True` saves the same, but
    connects while the client is built (`Redis.__init__` checks its connection out
    of the pool, which connects it): an environment started while Redis is down
    would fail to start instead of serving the catalog from the database. Here the
    first command connects. A command that finds the connection broken fails (the
    pool would have polled the socket and reconnected first); redis-py disconnects
    it then, and the next command connects again.

    Still safe where the assumption fails: a thread the handler starts waits while
    another holds the connection (a re-entrant lock, as `single_connection_client`
    takes per command), and a forked child opens its own connection instead of
    writing to its parent's socket. Not for `pubsub()` or `monitor()`: they would
    hold the one connection until they are closed.
    """

    def __init__(self, **connection_kwargs: Any) -> None:
        super().__init__(**connection_kwargs)
        self._lent: Connection | None = None
        self._lending = threading.RLock()
        # Checked at the fork, not per command as the stock `_checkpid` (a getpid call).
        forget = weakref.WeakMethod(self._forget_parents)
        os.register_at_fork(after_in_child=lambda: (method := forget()) and method())

    def _forget_parents(self) -> None:
        """In a forked child: the lent connection is the parent's socket, and the lock
        may be held by a parent's thread; the next command opens the child's own."""
        self._lent, self._lending = None, threading.RLock()

    def get_connection(self, command_name: object = None, *keys: object,
                       **options: Any) -> Connection:
        self._lending.acquire()
        try:
            if self._lent is None:
                # The stock checkout connects it; one that fails is released to the pool.
                self._lent = super().get_connection(command_name, *keys, **options)
        except BaseException:
            self._lending.release()
            raise
        return self._lent

    def release(self, connection: Connection) -> None:
        # The lent connection stays checked out; `disconnect()` still closes it.
        if connection is self._lent:
            self._lending.release()
        else:
            super().release(connection)


def create_redis(settings: Settings) -> RedisClient:
    """A client for `settings.redis_url`, the service's own ACL user and logical database.

    Inside a Lambda execution environment: one connection, opened by the first command.
    Outside an execution environment (`chalice local` serves requests on threads,
    the tests) commands run concurrently and need the thread-safe pool. Neither kind
    does I/O here; a command raises `redis.ConnectionError` or `redis.TimeoutError`
    while Redis is unreachable; a failed command is not retried.
    """
    # Short timeouts: Redis is a cache and a throttle here, never worth a slow request.
    pool_class = OneConnectionPool if in_lambda() else ConnectionPool
    pool = pool_class.from_url(
        str(settings.redis_url),
        socket_connect_timeout=0.5,
        socket_timeout=0.5,
        health_check_interval=30,
        retry_on_timeout=False,
    )
    return redis.Redis(connection_pool=pool)
