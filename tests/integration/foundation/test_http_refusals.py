"""Requests the HTTP parser refuses before any route runs are problems too, never HTML."""

from __future__ import annotations

import pytest
import requests

from shop_common.errors import PROBLEM_CONTENT_TYPE
from tests.support.client import ShopClient

pytestmark = pytest.mark.integration


def test_a_uri_too_long_is_a_414_problem(user_service: ShopClient) -> None:
    response = requests.get(user_service.base_url + "/users/" + "a" * 70_000, timeout=30)
    assert response.status_code == 414
    assert response.headers["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["status"] == 414


def test_a_header_line_too_long_is_a_431_problem(user_service: ShopClient) -> None:
    response = requests.get(user_service.base_url + "/health",
                            headers={"X-Junk": "a" * 70_000}, timeout=30)
    assert response.status_code == 431
    assert response.headers["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["status"] == 431
