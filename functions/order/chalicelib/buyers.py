"""The buyer of an order, as the user service knows them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from shop_common.errors import FieldError, validation_failed
from shop_common.service_client import ServiceClient, ServiceRejected


@dataclass(frozen=True)
class Buyer:
    id: str
    email: str
    name: str


def look_up_buyer(client: ServiceClient, user_id: uuid.UUID) -> Buyer:
    """The buyer; a 422 naming `user_id` if the user service has no such user.

    Any other failure stays a 503 (ServiceCallFailed), so the product service treats
    it as an unknown outcome and retries instead of releasing the stock.
    """
    try:
        reply = client.get("user", f"/internal/users/{user_id}")
    except ServiceRejected as exc:
        if exc.upstream_status == 404:
            raise validation_failed([FieldError("user_id", "no such user")]) from None
        raise
    body = reply.body
    return Buyer(id=str(body["id"]), email=str(body["email"]), name=str(body["name"]))
