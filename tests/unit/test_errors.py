"""Problems (RFC 9457): the one shape of every error a client sees."""

from __future__ import annotations

import json

from shop_common.errors import (
    PROBLEM_CONTENT_TYPE,
    FieldError,
    conflict,
    not_found,
    service_unavailable,
    too_many_requests,
    unauthorized,
    validation_failed,
)


def test_can_render_a_problem_as_problem_json() -> None:
    response = not_found("no such product").to_response("/products/7")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert json.loads(response.body) == {
        "type": "https://serverless-shop.dev/problems/not-found",
        "title": "Not Found",
        "status": 404,
        "detail": "no such product",
        "instance": "/products/7",
    }


def test_validation_problem_lists_each_field() -> None:
    problem = validation_failed([FieldError("email", "bad"), FieldError("name", "too long")])
    body = problem.to_dict()
    assert body["status"] == 422
    assert body["errors"] == [
        {"field": "email", "message": "bad"}, {"field": "name", "message": "too long"},
    ]
    assert "email" in body["detail"] and "name" in body["detail"]


def test_throttled_problem_says_when_to_retry() -> None:
    response = too_many_requests("slow down", 42).to_response()
    assert response.status_code == 429 and response.headers["Retry-After"] == "42"
    # Retry-After is never 0: a client told "retry in 0 s" would hammer us.
    assert too_many_requests("slow down", 0).headers["Retry-After"] == "1"


def test_unavailable_problem_says_when_to_retry() -> None:
    response = service_unavailable("db down", retry_after=3).to_response()
    assert response.status_code == 503 and response.headers["Retry-After"] == "3"


def test_unauthorized_problem_names_the_scheme() -> None:
    assert unauthorized().headers["WWW-Authenticate"].startswith("Bearer")


def test_extra_members_are_part_of_the_body() -> None:
    body = conflict("out of stock", slug="out-of-stock", available=2).to_dict()
    assert body["available"] == 2 and body["type"].endswith("/out-of-stock")


def test_detail_falls_back_to_the_title() -> None:
    body = not_found("").to_dict()
    assert body["detail"] == "Not Found" and "instance" not in body


def test_an_instance_never_names_another_host() -> None:
    # GET //evil.example/x answered `"instance": "//evil.example/x"`: resolved against the
    # shop's URL that is another host (RFC 3986 §4.2), not the path that was asked for.
    from urllib.parse import urljoin

    from shop_common.errors import Problem

    base = "http://127.0.0.1:8002/products"
    for path in ("//evil.example/x", "///evil.example/x", "/products/7", "/"):
        instance = Problem(404, "Not Found").to_dict(path)["instance"]
        assert urljoin(base, instance) == "http://127.0.0.1:8002" + path
    # A browser reads `\` as `/` in an http URL (WHATWG URL Standard): /\evil.example named
    # evil.example there. Read that way, it stays a path on this host too.
    for path in ("/\\evil.example/x", "/\\/evil.example", "/a\\b"):
        instance = Problem(404, "Not Found").to_dict(path)["instance"]
        as_a_browser_reads_it = urljoin(base, instance.replace("\\", "/"))
        assert as_a_browser_reads_it.startswith("http://127.0.0.1:8002/"), instance
