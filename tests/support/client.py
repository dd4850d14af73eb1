"""A small HTTP client for tests, speaking the shop's JSON contract."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

DEFAULT_PASSWORD = "correct-horse-battery-9"


@dataclass
class ShopClient:
    base_url: str
    session: requests.Session

    @classmethod
    def to(cls, base_url: str) -> ShopClient:
        return cls(base_url, requests.Session())

    @classmethod
    def from_address(cls, base_url: str, address: str) -> ShopClient:
        """A client whose connections come from `address` (any of 127.0.0.0/8 on Linux),
        so the service sees it as a client of its own (`sourceIp`)."""
        session = requests.Session()
        session.mount("http://", SourceAddressAdapter(address))
        return cls(base_url, session)

    def call(self, method: str, path: str, token: str | None = None, json: Any = None,
             headers: dict[str, str] | None = None, data: bytes | str | None = None,
             ) -> requests.Response:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        return self.session.request(
            method, self.base_url + path, json=json, data=data, headers=all_headers, timeout=30
        )


class SourceAddressAdapter(HTTPAdapter):
    def __init__(self, address: str) -> None:
        self.address = address  # set before the base class builds the pool manager
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def loopback_address() -> str:
    """A random address of 127.0.0.0/8 other than 127.0.0.1: a client nobody else is."""
    while True:
        address = f"127.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(2, 254)}"
        if address != "127.0.0.1":
            return address


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def register(users: ShopClient, email: str | None = None, password: str = DEFAULT_PASSWORD,
             name: str = "Test User") -> dict[str, Any]:
    body = {"email": email or unique_email(), "password": password, "name": name}
    response = users.call("POST", "/users/register", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def login(users: ShopClient, email: str, password: str = DEFAULT_PASSWORD) -> str:
    response = users.call("POST", "/users/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def new_enduser(users: ShopClient) -> tuple[dict[str, Any], str]:
    user = register(users)
    return user, login(users, user["email"])
