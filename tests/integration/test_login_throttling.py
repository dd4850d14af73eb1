"""Login and sign-up throttling, over HTTP, as strangers and owners at different addresses.

A user service of its own runs with the shipped throttling defaults (the session's
allows one address everything, since every other test calls from 127.0.0.1), except a
base delay of 30 s, so that no delay can run out in the middle of a test however slow
the machine is. Each test calls from addresses of 127.0.0.0/8 nobody else uses: the
service sees each as a client of its own (`requestContext.identity.sourceIp`).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import redis
import requests

from shop_common.config import Settings
from tests.integration.ordering.conftest import spawn
from tests.support.client import (
    DEFAULT_PASSWORD,
    ShopClient,
    loopback_address,
    register,
    unique_email,
)
from tests.support.functions import function_module
from tests.support.stack import TEST_REDIS_DB, ThrowawayStack, free_port

pytestmark = pytest.mark.integration

BASE_DELAY = 30
DEFAULTS = Settings.model_fields
THROTTLED = {
    "SHOP_AUTH_REQUESTS_PER_CLIENT_PER_MINUTE": str(
        DEFAULTS["auth_requests_per_client_per_minute"].default),
    "SHOP_LOGIN_CLIENT_FREE_FAILURES": str(DEFAULTS["login_client_free_failures"].default),
    "SHOP_LOGIN_DELAY_BASE_SECONDS": str(BASE_DELAY),
}
FREE = DEFAULTS["login_free_failures"].default  # 5
ACCOUNT_FREE = DEFAULTS["login_account_free_failures"].default  # 20
CLIENT_FREE = DEFAULTS["login_client_free_failures"].default  # 20
PER_MINUTE = DEFAULTS["auth_requests_per_client_per_minute"].default  # 30


@pytest.fixture(scope="module")
def service_url(stack: ThrowawayStack) -> Iterator[str]:
    handle = spawn(stack, "user", **THROTTLED)
    try:
        yield handle.url
    finally:
        handle.stop()


def client(url: str, address: str | None = None) -> ShopClient:
    return ShopClient.from_address(url, address or loopback_address())


def login(users: ShopClient, email: str, password: str) -> requests.Response:
    return users.call("POST", "/users/login", json={"email": email, "password": password})


def wait_of(response: requests.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    return int(response.headers["Retry-After"])


def test_five_wrong_passwords_from_a_stranger_do_not_lock_the_owner_out(service_url: str) -> None:
    # The issue: "Five wrong passwords for an email lock that account for 300 s for
    # everybody, its owner included". Now they slow down the stranger only.
    owner = register(client(service_url), name="Owner")
    stranger = client(service_url)
    for n in range(FREE):
        assert login(stranger, owner["email"], f"wrong-password-{n}").status_code == 401
    # Even with the right password: the stranger's address waits for this account.
    assert 0 < wait_of(login(stranger, owner["email"], DEFAULT_PASSWORD)) <= BASE_DELAY
    assert login(client(service_url), owner["email"], DEFAULT_PASSWORD).status_code == 200


def test_concurrent_wrong_passwords_get_no_more_tries_than_the_free_failures(
    service_url: str,
) -> None:
    # Checking the counter and counting a failure in two steps let every guess of a
    # concurrent burst pass the check: 30 guesses instead of 5.
    owner = register(client(service_url))
    address = loopback_address()

    def guess(n: int) -> int:
        return login(client(service_url, address), owner["email"], f"wrong-{n}").status_code

    with ThreadPoolExecutor(30) as pool:
        statuses = Counter(pool.map(guess, range(25)))
    assert statuses == {401: FREE, 429: 25 - FREE}, statuses


def test_an_address_trying_many_accounts_is_slowed_down(service_url: str) -> None:
    sprayer = client(service_url)
    for _ in range(CLIENT_FREE):
        assert login(sprayer, unique_email("sprayed"), "Wrong-password-1").status_code == 401
    assert 0 < wait_of(login(sprayer, unique_email("sprayed"), "Wrong-password-1")) <= BASE_DELAY
    # Another address is not slowed by it.
    assert login(client(service_url), unique_email("other"), "Wrong-1").status_code == 401


def test_x_forwarded_for_does_not_make_an_address_a_new_client(service_url: str) -> None:
    # Each failure claims another address: the service must still count them all for the
    # one TCP peer they came from.
    sprayer = client(service_url)

    def spray(n: int) -> requests.Response:
        return sprayer.call("POST", "/users/login",
                            json={"email": unique_email("xff"), "password": "Wrong-password-1"},
                            headers={"X-Forwarded-For": f"10.0.{n}.{n + 1}"})

    assert [spray(n).status_code for n in range(CLIENT_FREE)] == [401] * CLIENT_FREE
    assert 0 < wait_of(spray(CLIENT_FREE)) <= BASE_DELAY


def test_guessing_from_many_addresses_slows_the_account_but_not_its_owner_at_home(
    service_url: str,
) -> None:
    owner_email = register(client(service_url))["email"]
    home = loopback_address()
    assert login(client(service_url, home), owner_email, DEFAULT_PASSWORD).status_code == 200

    def guess(n: int) -> int:  # one guess per address, as a botnet would
        return login(client(service_url), owner_email, f"wrong-{n}").status_code

    statuses = [guess(n) for n in range(ACCOUNT_FREE)]
    assert statuses == [401] * ACCOUNT_FREE
    account_max = DEFAULTS["login_account_delay_max_seconds"].default
    assert 0 < wait_of(login(client(service_url), owner_email, DEFAULT_PASSWORD)) <= account_max
    # The owner's address logged into this account before: strangers do not hold it up.
    assert login(client(service_url, home), owner_email, DEFAULT_PASSWORD).status_code == 200


def test_160_logins_with_random_emails_cost_at_most_the_per_client_budget_of_hashes(
    service_url: str,
) -> None:
    # The issue: 160 such logins, each paying for an argon2 hash, slowed a sign-up from
    # 175 ms to 2-4 s. Past the address's budget each is a 429, answered before hashing.
    flooder = client(service_url)
    statuses = Counter(login(flooder, unique_email("flood"), "Wrong-password-1").status_code
                       for _ in range(160))
    assert statuses[401] <= PER_MINUTE and statuses[429] >= 160 - PER_MINUTE, statuses
    assert set(statuses) == {401, 429}, statuses
    register(client(service_url))  # someone else signs up meanwhile


# A small budget, so that the whole of it surely falls into one minute however slow
# the hashing on a busy machine.
SMALL_BUDGET = 5


@pytest.fixture(scope="module")
def small_budget_url(stack: ThrowawayStack) -> Iterator[str]:
    handle = spawn(stack, "user", **{
        **THROTTLED, "SHOP_AUTH_REQUESTS_PER_CLIENT_PER_MINUTE": str(SMALL_BUDGET)})
    try:
        yield handle.url
    finally:
        handle.stop()


def test_the_per_client_limit_covers_sign_up_and_login_and_answers_before_parsing(
    small_budget_url: str,
) -> None:
    users = client(small_budget_url)
    for _ in range(SMALL_BUDGET):
        assert users.call("POST", "/users/register", json={
            "email": unique_email("burst"), "password": DEFAULT_PASSWORD, "name": "Burst",
        }).status_code == 201
    refused = users.call("POST", "/users/register", json={
        "email": unique_email("burst"), "password": DEFAULT_PASSWORD, "name": "Burst"})
    assert 0 < wait_of(refused) <= 60
    assert "from your address" in refused.json()["detail"]
    # One budget for both routes; a 429 even for a body it never read (so never hashed).
    assert wait_of(login(users, unique_email("burst"), DEFAULT_PASSWORD)) <= 60
    assert wait_of(users.call("POST", "/users/login", data=b"{not json")) <= 60
    assert register(client(small_budget_url))  # another address is not limited by it


@pytest.fixture(scope="module")
def redis_down_url(stack: ThrowawayStack) -> Iterator[str]:
    """A user service whose Redis does not answer (nothing listens on its port)."""
    handle = spawn(stack, "user", **{
        **THROTTLED, "SHOP_AUTH_REQUESTS_PER_CLIENT_PER_MINUTE": str(FREE + 2),
        "SHOP_USER_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    try:
        yield handle.url
    finally:
        handle.stop()


def test_with_redis_down_logins_work_without_delays_and_the_client_limit_holds_per_process(
    service_url: str, redis_down_url: str,
) -> None:
    owner = register(client(service_url))  # registered through the healthy instance
    users = client(redis_down_url)
    statuses = [login(users, owner["email"], f"wrong-{n}").status_code for n in range(FREE + 1)]
    assert statuses == [401] * (FREE + 1)  # no delays without Redis (fail open)...
    assert login(users, owner["email"], DEFAULT_PASSWORD).status_code == 200
    # ...but this address's requests are still counted, by the process itself.
    assert 0 < wait_of(login(users, owner["email"], DEFAULT_PASSWORD)) <= 60
    assert login(client(redis_down_url), owner["email"], DEFAULT_PASSWORD).status_code == 200


# --- the delays themselves, on the real Redis with the real script ---------------------

throttle_module = function_module("user", "throttle")


@dataclass
class Throttle:
    limiter: Any
    connection: redis.Redis
    namespace: str

    def pass_the_time(self) -> None:
        """As if every delay had run out (the script reads the clock from Redis)."""
        for key in self.connection.scan_iter(match=self.namespace + "*"):
            if self.connection.type(key) == b"hash":
                self.connection.hdel(key, "until")


@pytest.fixture
def throttle(stack: ThrowawayStack) -> Iterator[Throttle]:
    connection = redis.Redis(host="127.0.0.1", port=6379, db=TEST_REDIS_DB)
    namespace = f"shoptest:{stack.run_id}:throttle-{uuid.uuid4().hex[:8]}:"
    policy = throttle_module.LoginPolicy(delay_base_seconds=10, delay_max_seconds=60)
    try:
        yield Throttle(throttle_module.LoginThrottle(connection, namespace, policy),
                       connection, namespace)
    finally:
        for key in connection.scan_iter(match=namespace + "*"):
            connection.delete(key)
        connection.close()


def test_delays_double_with_each_failure_up_to_the_cap(throttle: Throttle) -> None:
    limiter = throttle.limiter
    email, address = unique_email("doubling"), loopback_address()
    for _ in range(FREE):
        assert limiter.claim_attempt(email, address) == 0  # free failures
    waits = []
    for _ in range(5):
        waits.append(limiter.claim_attempt(email, address))
        throttle.pass_the_time()
        assert limiter.claim_attempt(email, address) == 0  # counted: the delay grows
    assert waits == [10, 20, 40, 60, 60]


def test_a_success_clears_the_accounts_failures_and_a_release_gives_one_back(
    throttle: Throttle,
) -> None:
    limiter = throttle.limiter
    email, address = unique_email("cleared"), loopback_address()
    for _ in range(FREE):
        limiter.claim_attempt(email, address)
    assert limiter.claim_attempt(email, address) == 10
    limiter.release(email, address)  # the last free one ended without a verdict
    assert limiter.claim_attempt(email, address) == 0
    limiter.succeeded(email, address)
    for _ in range(FREE):
        assert limiter.claim_attempt(email, address) == 0
