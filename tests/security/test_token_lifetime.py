"""Token lifetime and clock skew, on every service: a token minted to live longer than the
configured TTL is refused although its signature holds; a few seconds of skew are not."""

from __future__ import annotations

import time

import pytest

from tests.security.conftest import Accounts, Minter, Services

pytestmark = pytest.mark.integration

TEN_YEARS = 10 * 365 * 24 * 3600
USER_ROUTES = [("user", "/users/me"), ("product", "/products"), ("order", "/orders")]


@pytest.mark.parametrize(("service", "path"), USER_ROUTES)
def test_a_user_token_whose_exp_is_ten_years_away_is_refused(
    services: Services, minter: Minter, accounts: Accounts, service: str, path: str,
) -> None:
    # The issue: such a token was accepted (only service tokens were capped).
    token = minter.user(accounts.alice["id"], ttl=TEN_YEARS)
    response = services.client(service).call("GET", path, token=token)
    assert response.status_code == 401, response.text
    assert "lives longer than 900 s" in response.json()["detail"]


@pytest.mark.parametrize(("service", "path"), USER_ROUTES)
def test_a_user_token_from_a_clock_two_seconds_ahead_is_accepted(
    services: Services, minter: Minter, accounts: Accounts, service: str, path: str,
) -> None:
    # The issue: no leeway existed for hosts whose clocks differ by a second.
    ahead = minter.user(accounts.alice["id"], now=int(time.time()) + 2)
    assert services.client(service).call("GET", path, token=ahead).status_code == 200
    far_ahead = minter.user(accounts.alice["id"], now=int(time.time()) + 60)
    assert services.client(service).call("GET", path, token=far_ahead).status_code == 401


def test_a_service_token_from_a_clock_two_seconds_ahead_is_accepted(
    services: Services, minter: Minter, accounts: Accounts,
) -> None:
    path = f"/internal/users/{accounts.alice['id']}"
    ahead = minter.service("order", "user", now=int(time.time()) + 2)
    assert services.user.call("GET", path, token=ahead).status_code == 200
    far_ahead = minter.service("order", "user", now=int(time.time()) + 60)
    assert services.user.call("GET", path, token=far_ahead).status_code == 401
