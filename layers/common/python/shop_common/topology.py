"""The shop's RabbitMQ topology as data: exchange names, consumer queue specs, the vhost of an
AMQP URL. Light on purpose (no broker client): `shop status` and the mapping file's reader
use these without loading pika; shop_common.messaging declares them on a broker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

EXCHANGE = "shop.events"
DEAD_LETTER_EXCHANGE = "shop.dlx"
DEFAULT_DELIVERY_LIMIT = 5


@dataclass(frozen=True)
class QueueSpec:
    """A consumer queue: bound to `shop.events` by routing keys, dead-lettered to `<name>.dlq`."""

    name: str
    routing_keys: tuple[str, ...]
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.name}.dlq"

    def arguments(self) -> dict[str, Any]:
        """The `x-` arguments the queue is declared with (RabbitMQ queue arguments).

        A quorum queue whose messages, past `delivery_limit` deliveries, are dead-lettered
        to `shop.dlx` with the queue's own name as routing key.

        RabbitMQ documents them in "Quorum Queues" (x-delivery-limit) and "Dead Letter
        Exchanges"; a queue already declared with other arguments makes the declare fail
        with 406 PRECONDITION_FAILED (see shop_common.messaging.declare_topology).
        """
        return {
            "x-queue-type": "quorum",
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            # Routed by queue name, not by the event's routing key: two queues may
            # share a routing key, and each must dead-letter to its own .dlq.
            "x-dead-letter-routing-key": self.name,
        }


def vhost_of(amqp_url: str) -> str:
    """The virtual host an AMQP URL names: its path, percent-decoded; "/" when it has none.

    https://www.rabbitmq.com/docs/uri-spec
    """
    path = urlsplit(amqp_url).path
    return unquote(path[1:]) if len(path) > 1 else "/"
