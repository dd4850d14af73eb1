"""The buyer of an order, as the user service knows them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from shop_common.errors import FieldError, validation_failed
from shop_common.service_client import NoAnswer, Refusal, ServiceClient, ServiceReply


@dataclass(frozen=True)
class Buyer:
    """Who placed the order: user id, email address and display name."""

    id: str
    email: str
    name: str


def look_up_buyer(client: ServiceClient, user_id: uuid.UUID) -> Buyer:
    """The buyer; a 422 naming `user_id` if the user service has no such user.

    Any other failure stays a 503 (ServiceCallFailed), so the product service treats
    it as an unknown outcome and retries instead of releasing the stock.
    """
    match client.send("user", "GET", f"/internal/users/{user_id}"):
        case ServiceReply(body=body):
            return Buyer(id=str(body["id"]), email=str(body["email"]), name=str(body["name"]))
        case Refusal(status=404):
            raise validation_failed([FieldError("user_id", "no such user")])
        case Refusal() | NoAnswer() as failure:
            raise failure.as_problem()
