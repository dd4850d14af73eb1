"""Calls from one service to another: a service token, timeouts, bounded retries, clear failures.

Every internal call goes through `ServiceClient`, so each carries a short-lived token
addressed to its target and none can hang the request that makes it. A failed call
raises a 503 problem of one of two kinds, because a caller that changed state before
the call must know which one it got:

- `ServiceRejected`: the target answered with a definite 4xx. It did not do the thing,
  and repeating the same request will not change that.
- `ServiceUnavailable`: a timeout, a connection error or a 5xx. The outcome is
  unknown: the target may or may not have done the thing.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from shop_common.config import Settings
from shop_common.errors import Problem
from shop_common.keys import KeyRing
from shop_common.logs import request_id_var
from shop_common.tokens import issue_service_token

log = logging.getLogger("shop.service_client")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# 4xx answers that mean "not now" rather than "no".
RETRYABLE_CLIENT_STATUSES = frozenset({408, 425, 429})
MAX_TOKEN_TTL_SECONDS = 60
BACKOFF_CAP_SECONDS = 2.0


class Outcome(Enum):
    SUCCESS = "success"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


def classify_status(status: int) -> Outcome:
    """What an HTTP status says about whether the target did what was asked."""
    if 200 <= status < 300:
        return Outcome.SUCCESS
    if 400 <= status < 500 and status not in RETRYABLE_CLIENT_STATUSES:
        return Outcome.REJECTED
    # 1xx/3xx are never expected from an internal JSON endpoint: treat them as unknown.
    return Outcome.UNKNOWN


def backoff_delay(retry: int, base: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number `retry` (1, 2, ...): exponential, half jittered.

    The jitter spreads retries of many callers that failed together (a restart of the
    target), so they do not all arrive at the same instant again.
    """
    ceiling = min(BACKOFF_CAP_SECONDS, base * 2.0 ** (retry - 1))
    return ceiling / 2 + rand() * ceiling / 2


@dataclass(frozen=True)
class ServiceReply:
    status: int
    body: Any


@dataclass
class ServiceCallFailed(Problem):
    """A call to another service failed; as a response it is a 503 problem."""

    service: str = ""
    upstream_status: int | None = None
    upstream_body: Any = None


class ServiceRejected(ServiceCallFailed):
    """The target answered with a definite 4xx: it did not act on the request."""


class ServiceUnavailable(ServiceCallFailed):
    """Timeout, connection error or 5xx: whether the target acted is unknown."""


def upstream_detail(body: Any) -> str:
    """The `detail` (or `title`) of a problem body another service answered; "" otherwise."""
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or "")
    return ""


def rejected(service: str, status: int, body: Any) -> ServiceRejected:
    """The 503 problem for a definite 4xx from `service` (`dependency-refused`, Retry-After 1 s)."""
    detail = f"the {service} service refused the request ({status})"
    reason = upstream_detail(body)
    return ServiceRejected(
        503, "Service Unavailable", f"{detail}: {reason}" if reason else detail,
        slug="dependency-refused", headers={"Retry-After": "1"},
        service=service, upstream_status=status, upstream_body=body,
    )


def unavailable(service: str, reason: str, status: int | None = None,
                body: Any = None) -> ServiceUnavailable:
    """The 503 problem for a call to `service` of unknown outcome (`dependency-unavailable`)."""
    return ServiceUnavailable(
        503, "Service Unavailable", f"the {service} service is unavailable: {reason}",
        slug="dependency-unavailable", headers={"Retry-After": "1"},
        service=service, upstream_status=status, upstream_body=body,
    )


def json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def shared_session(pool_size: int = 64) -> requests.Session:
    # One pooled session per process: the local host serves each request on its own
    # thread, and urllib3's pool is thread-safe. Retries are ours, not urllib3's.
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class ServiceClient:
    def __init__(self, settings: Settings, keys: KeyRing,
                 session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._settings = settings
        self._keys = keys
        self._session = session or shared_session()
        self._sleep = sleep

    def base_url(self, service: str) -> str:
        """The base URL of `service` ("user", "product" or "order"); ValueError otherwise."""
        urls = {
            "user": self._settings.user_service_url,
            "product": self._settings.product_service_url,
            "order": self._settings.order_service_url,
        }
        if service not in urls:
            raise ValueError(f"no HTTP endpoint is configured for service {service!r}")
        return str(urls[service]).rstrip("/")

    def _headers(self, service: str) -> dict[str, str]:
        token = issue_service_token(
            self._keys.service_key, caller=self._settings.service_name, audience=service,
            ttl_seconds=min(self._settings.service_token_ttl_seconds, MAX_TOKEN_TTL_SECONDS),
        )
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        request_id = request_id_var.get()
        if request_id:
            headers["X-Request-Id"] = request_id
        return headers

    def call(self, service: str, method: str, path: str, *, json: Any = None,
             idempotent: bool | None = None) -> ServiceReply:
        """Make the call; retry it only if repeating it is safe (`idempotent`).

        `idempotent` defaults to what the HTTP method promises; a POST that carries an
        idempotency key the target honours may pass `idempotent=True`.
        """
        method = method.upper()
        retry_allowed = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        attempts = self._settings.service_call_attempts if retry_allowed else 1
        url = self.base_url(service) + path
        timeout = (self._settings.service_connect_timeout_seconds,
                   self._settings.service_read_timeout_seconds)
        failure = unavailable(service, "no attempt was made")
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                base = self._settings.service_retry_backoff_seconds
                self._sleep(backoff_delay(attempt - 1, base))
            try:
                response = self._session.request(
                    method, url, json=json, headers=self._headers(service), timeout=timeout
                )
            except requests.Timeout:
                failure = unavailable(service, "timed out")
                continue
            except requests.RequestException as exc:
                failure = unavailable(service, f"connection failed ({type(exc).__name__})")
                continue
            body = json_or_none(response)
            outcome = classify_status(response.status_code)
            if outcome is Outcome.SUCCESS:
                return ServiceReply(response.status_code, body)
            if outcome is Outcome.REJECTED:
                raise rejected(service, response.status_code, body)
            failure = unavailable(service, f"answered {response.status_code}",
                                  response.status_code, body)
        log.warning("service call failed", extra={
            "target": service, "method": method, "path": path, "attempts": attempts,
            "reason": failure.detail,
        })
        raise failure

    def get(self, service: str, path: str) -> ServiceReply:
        """GET `path` of `service`, retried as `call` allows; raises as `call` does."""
        return self.call(service, "GET", path)

    def post(self, service: str, path: str, json: Any, *, idempotent: bool = False) -> ServiceReply:
        """POST `json` to `path` of `service`, retried only if `idempotent`; raises as `call`."""
        return self.call(service, "POST", path, json=json, idempotent=idempotent)
