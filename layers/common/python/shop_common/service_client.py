"""Calls from one service to another: a service token, timeouts, bounded retries, clear failures.

Every internal call goes through `ServiceClient`, so each carries a short-lived token
addressed to its target and none can hang the request that makes it. A call ends in
one of three results, because a caller that changed state before the call must know
which one it got:

- `ServiceReply`: the target answered 2xx. It did the thing.
- `Refusal`: the target answered with a definite 4xx. It did not do the thing, and
  repeating the same request will not change that.
- `NoAnswer`: a timeout, a connection error or a 5xx (or 408/425/429 on the last
  attempt). The outcome is unknown: the target may or may not have done the thing.

`ServiceClient.send` returns that result and never raises for it. `call`, `get` and
`post` are built on it for callers that want a failure as a 503 problem instead:
`ServiceRejected` for a refusal, `ServiceUnavailable` for no answer.
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
    """What a status says: the target acted, refused for good, or may or may not have."""

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


def refused_detail(service: str, status: int, body: Any) -> str:
    """The `detail` of the problem for a definite 4xx from `service`, with its reason."""
    detail = f"the {service} service refused the request ({status})"
    reason = upstream_detail(body)
    return f"{detail}: {reason}" if reason else detail


def rejected(service: str, status: int, body: Any) -> ServiceRejected:
    """The 503 problem for a definite 4xx from `service` (`dependency-refused`, Retry-After 1 s)."""
    return ServiceRejected(
        503, "Service Unavailable", refused_detail(service, status, body),
        slug="dependency-refused", headers={"Retry-After": "1"},
        service=service, upstream_status=status, upstream_body=body,
    )


def unavailable_detail(service: str, reason: str) -> str:
    """The `detail` of the problem for a call to `service` of unknown outcome."""
    return f"the {service} service is unavailable: {reason}"


def unavailable(service: str, reason: str, status: int | None = None,
                body: Any = None) -> ServiceUnavailable:
    """The 503 problem for a call to `service` of unknown outcome (`dependency-unavailable`)."""
    return ServiceUnavailable(
        503, "Service Unavailable", unavailable_detail(service, reason),
        slug="dependency-unavailable", headers={"Retry-After": "1"},
        service=service, upstream_status=status, upstream_body=body,
    )


@dataclass(frozen=True)
class ServiceReply:
    """The target answered 2xx: `status`, and `body` as parsed JSON (None if not JSON)."""

    status: int
    body: Any


@dataclass(frozen=True)
class Refusal:
    """The target `service` answered a definite 4xx (`status`, `body` as parsed JSON or
    None): it did not act on the request, and the same request again will not change that."""

    service: str
    status: int
    body: Any

    @property
    def detail(self) -> str:
        """The sentence a `ServiceRejected` problem gives as its `detail`."""
        return refused_detail(self.service, self.status, self.body)

    def as_problem(self) -> ServiceRejected:
        """This refusal as the 503 `dependency-refused` problem; see `rejected`."""
        return rejected(self.service, self.status, self.body)


@dataclass(frozen=True)
class NoAnswer:
    """No answer to rely on from `service`: whether it acted is unknown.

    `reason` says why ("timed out", "connection failed (ConnectionError)", "answered
    503"); `status` and `body` are those of the last attempt, when it got an answer.
    """

    service: str
    reason: str
    status: int | None = None
    body: Any = None

    @property
    def detail(self) -> str:
        """The sentence a `ServiceUnavailable` problem gives as its `detail`."""
        return unavailable_detail(self.service, self.reason)

    def as_problem(self) -> ServiceUnavailable:
        """This unknown outcome as the 503 `dependency-unavailable` problem."""
        return unavailable(self.service, self.reason, self.status, self.body)


CallResult = ServiceReply | Refusal | NoAnswer


def json_or_none(response: requests.Response) -> Any:
    """The response body parsed as JSON, or None when it is empty or not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def shared_session(pool_size: int = 64) -> requests.Session:
    """A `requests.Session` keeping up to `pool_size` connections per host, with urllib3's
    own retries off (ServiceClient decides what may be repeated)."""
    # One pooled session per process: the local host serves each request on its own
    # thread, and urllib3's pool is thread-safe. Retries are ours, not urllib3's.
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class ServiceClient:
    """Calls to the shop's other services, each with a fresh service token (RFC 7519 JWT,
    `aud` = the target, at most 60 s), the configured connect/read timeouts in seconds,
    and retries with jittered exponential backoff only where repeating is safe.

    `sleep` is injectable so tests need not wait out the backoff.
    """

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

    def send(self, service: str, method: str, path: str, *, json: Any = None,
             idempotent: bool | None = None) -> CallResult:
        """Make the call, retried only if repeating it is safe; the result, never raised.

        `idempotent` defaults to what the HTTP method promises (RFC 9110 section 9.2.2:
        GET, HEAD, OPTIONS, PUT, DELETE); a POST that carries an idempotency key the
        target honours may pass `idempotent=True`. A retried call makes up to
        `service_call_attempts` attempts, with `backoff_delay` between them; a 5xx, a
        timeout, a connection error and 408/425/429 are retried, a 2xx or another 4xx
        ends the call at once.

        Returns a `ServiceReply` (2xx), a `Refusal` (a definite 4xx) or a `NoAnswer`
        (no attempt gave a definite answer). Raises only ValueError, for a `service`
        that has no address (a bug in the caller, not an outcome of the call).
        """
        method = method.upper()
        retry_allowed = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        attempts = self._settings.service_call_attempts if retry_allowed else 1
        url = self.base_url(service) + path
        timeout = (self._settings.service_connect_timeout_seconds,
                   self._settings.service_read_timeout_seconds)
        failure = NoAnswer(service, "no attempt was made")
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                base = self._settings.service_retry_backoff_seconds
                self._sleep(backoff_delay(attempt - 1, base))
            try:
                response = self._session.request(
                    method, url, json=json, headers=self._headers(service), timeout=timeout
                )
            except requests.Timeout:
                failure = NoAnswer(service, "timed out")
                continue
            except requests.RequestException as exc:
                failure = NoAnswer(service, f"connection failed ({type(exc).__name__})")
                continue
            body = json_or_none(response)
            outcome = classify_status(response.status_code)
            if outcome is Outcome.SUCCESS:
                return ServiceReply(response.status_code, body)
            if outcome is Outcome.REJECTED:
                return Refusal(service, response.status_code, body)
            failure = NoAnswer(service, f"answered {response.status_code}",
                               response.status_code, body)
        log.warning("service call failed", extra={
            "target": service, "method": method, "path": path, "attempts": attempts,
            "reason": failure.detail,
        })
        return failure

    def call(self, service: str, method: str, path: str, *, json: Any = None,
             idempotent: bool | None = None) -> ServiceReply:
        """Make the call as `send` does; the 2xx reply, or the failure raised as a 503.

        Raises ServiceRejected for a definite 4xx, ServiceUnavailable when the outcome
        is unknown (both ServiceCallFailed), ValueError for an unknown `service`.
        """
        match self.send(service, method, path, json=json, idempotent=idempotent):
            case ServiceReply() as reply:
                return reply
            case Refusal() | NoAnswer() as failure:
                raise failure.as_problem()

    def get(self, service: str, path: str) -> ServiceReply:
        """GET `path` of `service`, retried as `call` allows; raises as `call` does."""
        return self.call(service, "GET", path)

    def post(self, service: str, path: str, json: Any, *, idempotent: bool = False) -> ServiceReply:
        """POST `json` to `path` of `service`, retried only if `idempotent`; raises as `call`."""
        return self.call(service, "POST", path, json=json, idempotent=idempotent)
