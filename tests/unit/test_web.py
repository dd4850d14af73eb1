"""The HTTP middleware, in process with Chalice's test client (no sockets)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from chalice.app import Chalice, Request, Response
from chalice.test import Client

from shop_common.errors import PROBLEM_CONTENT_TYPE, not_found
from shop_common.web import as_problem, install_http_middleware, requested_path

INTERNALS = "pg8000 password=s3cr3t at db.internal:5432"


def build_app() -> Chalice:
    app = Chalice(app_name="web-test")
    install_http_middleware(app)

    @app.route("/boom")
    def boom() -> None:
        raise RuntimeError(INTERNALS)

    @app.route("/things/{thing_id}")
    def thing(thing_id: str) -> None:
        raise not_found(f"no thing {thing_id}")

    @app.route("/things", methods=["POST"])
    def create() -> dict[str, int]:
        return {"id": 1}

    return app


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with Client(build_app()) as test_client:
        yield test_client


def body_of(response: object) -> dict[str, object]:
    return dict(json.loads(response.body))  # type: ignore[attr-defined]


def test_can_rewrite_chalices_own_error_body_as_a_problem() -> None:
    chalice_body = json.dumps({"Code": "BadRequestError", "Message": "Unsupported method: GET"})
    response = Response(body=chalice_body, status_code=405, headers={"Allow": "POST"})
    rewritten = as_problem(response, "/things")
    assert rewritten.headers["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert rewritten.headers["Allow"] == "POST"
    body = json.loads(rewritten.body)
    assert body["status"] == 405 and body["title"] == "Method Not Allowed"
    assert body["detail"] == "Unsupported method: GET" and body["instance"] == "/things"


def test_server_error_detail_hides_internals() -> None:
    response = Response(body={"Code": "InternalServerError", "Message": INTERNALS}, status_code=500)
    body = json.loads(as_problem(response, "/boom").body)
    assert body["status"] == 500 and INTERNALS not in json.dumps(body)


def test_a_problem_answered_from_storage_gets_the_requested_path_as_its_instance() -> None:
    # The order route's 503 order-unconfirmed (and every stored outcome it replays) was
    # written once without a request, and answered without `instance`.
    stored = {"type": "https://x/problems/order-unconfirmed", "title": "Service Unavailable",
              "status": 503, "detail": "retry"}
    response = Response(body=json.dumps(stored), status_code=503,
                        headers={"Content-Type": PROBLEM_CONTENT_TYPE, "Retry-After": "2"})
    body = json.loads(as_problem(response, "//p/7/orders").body)
    assert body == {**stored, "instance": "/.//p/7/orders"}
    kept = {**stored, "instance": "/earlier"}
    response = Response(body=json.dumps(kept), status_code=503,
                        headers={"Content-Type": PROBLEM_CONTENT_TYPE})
    assert json.loads(as_problem(response, "/now").body) == kept


def test_successful_responses_are_left_alone() -> None:
    response = Response(body={"Message": "fine"}, status_code=200)
    assert as_problem(response, "/") is response


def test_an_unhandled_exception_becomes_a_500_problem_with_the_request_id(client: Client) -> None:
    response = client.http.get("/boom", headers={"X-Request-Id": "req-boom"})
    assert response.status_code == 500
    assert response.headers["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response.headers["X-Request-Id"] == "req-boom"
    body = body_of(response)
    assert "s3cr3t" not in response.body.decode() and "req-boom" in str(body["detail"])


def test_a_raised_problem_becomes_its_response(client: Client) -> None:
    response = client.http.get("/things/7")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert body_of(response)["detail"] == "no thing 7"


def test_a_problems_instance_is_the_requested_path_not_the_route(client: Client) -> None:
    # RFC 9457 §3.1.5: `instance` identifies this occurrence, so `/things/7`, not
    # `/things/{thing_id}`; the query string is not part of it.
    raised = client.http.get("/things/7?verbose=1")
    assert body_of(raised)["instance"] == "/things/7"
    rewritten = client.http.get("/things/8", headers={"Content-Type": "text/plain"})
    assert rewritten.status_code == 415 and body_of(rewritten)["instance"] == "/things/8"


def proxy_request(context: dict[str, str], path: str | None = None) -> Request:
    event = {"multiValueQueryStringParameters": None, "headers": {}, "pathParameters": None,
             "requestContext": {"httpMethod": "GET", **context}, "stageVariables": None,
             "body": None, **({"path": path} if path else {})}
    return Request(event)


def test_the_requested_path_keeps_the_stage_prefix_the_client_used() -> None:
    behind_api_gateway = proxy_request(
        {"resourcePath": "/things/{thing_id}", "path": "/api/things/7"}, path="/things/7")
    assert requested_path(behind_api_gateway) == "/api/things/7"
    only_the_event_path = proxy_request({"resourcePath": "/things/{thing_id}"}, path="/things/7")
    assert requested_path(only_the_event_path) == "/things/7"
    hand_built = proxy_request({"resourcePath": "/health"})
    assert requested_path(hand_built) == "/health"


def test_wrong_method_and_media_type_are_problems(client: Client) -> None:
    wrong_method = client.http.get("/things")
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "POST"
    assert wrong_method.headers["Content-Type"] == PROBLEM_CONTENT_TYPE
    wrong_type = client.http.post("/things", headers={"Content-Type": "text/plain"}, body="x")
    assert wrong_type.status_code == 415
    assert wrong_type.headers["Content-Type"] == PROBLEM_CONTENT_TYPE


def test_every_response_carries_a_request_id(client: Client) -> None:
    first = client.http.post("/things", headers={"Content-Type": "application/json"}, body="{}")
    second = client.http.post("/things", headers={"Content-Type": "application/json"}, body="{}")
    assert first.status_code == 200
    ids = {first.headers["X-Request-Id"], second.headers["X-Request-Id"]}
    assert len(ids) == 2 and all(ids)


def test_the_access_log_line_names_the_requested_path_and_the_route(
        client: Client, caplog: pytest.LogCaptureFixture) -> None:
    # An operator looks for the path a client reports (`/things/7`, as in a problem's
    # `instance`); the route template (as the metrics are labelled) is kept beside it.
    with caplog.at_level("INFO", logger="shop.access"):
        response = client.http.get("/things/7?verbose=1")
    lines = [r for r in caplog.records if r.name == "shop.access"]
    assert len(lines) == 1
    line = lines[0].__dict__
    assert line["path"] == "/things/7" == body_of(response)["instance"]
    assert line["route"] == "/things/{thing_id}"
    assert (line["method"], line["status"]) == ("GET", 404)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
