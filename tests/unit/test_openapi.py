"""Each service's OpenAPI document against its own route table, the spec, and the cloud's routes.

Apps are imported as Chalice imports them (no I/O at import time); nothing is served.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from chalice.app import Chalice, Response
from chalice.deploy.swagger import CFNSwaggerGenerator
from openapi_spec_validator import validate
from pydantic import BaseModel

from shop_common.api_spec import Access, Answer, UndocumentedRoute, operation
from shop_common.docs import base_path_of, served_document
from shop_common.openapi import build_document
from tests.support.functions import function_app, function_module

HTTP_SERVICES = ["user", "product", "order"]
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def document(service: str) -> dict[str, Any]:
    return build_document(function_app(service))


def operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(path, method.upper()): op for path, item in doc["paths"].items()
            for method, op in item.items() if method in METHODS}


@pytest.mark.parametrize("service", HTTP_SERVICES)
def test_the_document_has_exactly_the_routes_of_the_route_table(service: str) -> None:
    table = {(path, method) for path, methods in function_app(service).routes.items()
             for method in methods}
    documented = set(operations(document(service)))
    assert documented - table == set(), "documented, but no such route"
    assert table - documented == set(), "routed, but not documented"


@pytest.mark.parametrize("service", HTTP_SERVICES)
def test_the_document_is_valid_openapi_3_1(service: str) -> None:
    doc = document(service)
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # raises with the first error


@pytest.mark.parametrize("service", HTTP_SERVICES)
def test_the_deployed_api_gateway_has_the_same_paths_and_methods(service: str) -> None:
    # What `chalice package`/`chalice deploy` give API Gateway, from the same app.
    cloud = CFNSwaggerGenerator().generate_swagger(function_app(service))
    deployed = {(path, method.upper()) for path, item in cloud["paths"].items()
                for method in item if method in METHODS}
    assert deployed == set(operations(document(service)))


@pytest.mark.parametrize("service", HTTP_SERVICES)
def test_every_error_answer_is_a_problem_and_every_route_names_who_may_call_it(
    service: str,
) -> None:
    doc = document(service)
    problem_ref = "#/components/schemas/ProblemDetails"
    for (path, method), op in operations(doc).items():
        assert op["x-shop-access"] in {a.value for a in Access}, (path, method)
        for status, answer in op["responses"].items():
            if int(status) >= 400:
                schema = answer["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": problem_ref}, (path, method, status)
        if op["security"]:
            assert "401" in op["responses"], (path, method)


@pytest.mark.parametrize("service", HTTP_SERVICES)
def test_internal_routes_and_only_they_are_marked_and_take_service_tokens(service: str) -> None:
    for (path, method), op in operations(document(service)).items():
        internal = path.startswith("/internal/")
        assert op.get("x-internal", False) is internal, (path, method)
        assert (op["security"] == [{"serviceToken": []}]) is internal, (path, method)
        if internal:
            assert op["tags"] == ["internal"] and {"401", "403"} <= set(op["responses"])


def test_role_routes_name_their_role_and_answer_403() -> None:
    ops = operations(document("product"))
    create = ops[("/products", "POST")]
    assert create["security"] == [{"userToken": ["superadmin"]}]
    assert {"400", "401", "403", "415", "422"} <= set(create["responses"])
    order = ops[("/products/{product_id}/orders", "POST")]
    assert order["security"] == [{"userToken": ["enduser"]}]
    assert {"201", "400", "401", "403", "404", "409", "422", "503"} <= set(order["responses"])
    key = next(p for p in order["parameters"] if p["name"] == "Idempotency-Key")
    assert key["in"] == "header" and key["required"] is True
    listing = ops[("/products", "GET")]
    assert listing["security"] == [{"userToken": []}] and "403" not in listing["responses"]
    assert listing["responses"]["200"]["headers"]["X-Cache"]["schema"]["enum"] == ["HIT", "MISS"]


def test_bodies_and_answers_come_from_the_models_that_validate_and_shape_them() -> None:
    doc = document("product")
    schemas = doc["components"]["schemas"]
    body = schemas["PlaceOrderBody"]
    assert body["properties"]["quantity"]["minimum"] == 1
    assert body["properties"]["quantity"]["maximum"] == 1000
    assert body["additionalProperties"] is False  # unknown fields are a 422
    assert schemas["ProductOut"]["properties"]["price"]["type"] == "string"
    user = document("user")["components"]["schemas"]
    assert user["RegisterBody"]["properties"]["password"]["minLength"] == 10
    assert "password" not in user["UserOut"]["properties"]


def test_the_product_view_is_shaped_by_its_model() -> None:
    view = function_module("product", "schemas").product_view
    now = datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    row = SimpleNamespace(id=uuid.UUID(int=7), name="Kettle", description="",
                          price=Decimal("9.9"), stock=3, created_at=now, updated_at=now)
    assert view(row) == {
        "id": "00000000-0000-0000-0000-000000000007", "name": "Kettle", "description": "",
        "price": "9.90", "stock": 3, "created_at": "2026-01-02T03:04:05.600000+00:00",
        "updated_at": "2026-01-02T03:04:05.600000+00:00",
    }


# --- the builder itself, on a throw-away app -----------------------------------------------

class Thing(BaseModel):
    name: str


def test_a_route_without_a_declaration_fails_the_build() -> None:
    app = Chalice(app_name="undocumented")

    @app.route("/things", methods=["GET"])
    @operation("Things", Access.PUBLIC, Answer(200, "things", Thing), uses_storage=False)
    def things() -> Response:
        return Response(body="[]")

    @app.route("/secret", methods=["POST"])
    def secret() -> Response:
        return Response(body="")

    with pytest.raises(UndocumentedRoute, match="POST /secret"):
        build_document(app)


def test_who_may_call_a_route_decides_its_security_and_problems() -> None:
    app = Chalice(app_name="kinds")

    @app.route("/open", methods=["GET"])
    @operation("Open", Access.PUBLIC, Answer(200, "ok"), uses_storage=False)
    def open_route() -> Response:
        return Response(body="")

    @app.route("/things/{thing_id}", methods=["PUT"])
    @operation("Replace", Access.SUPERADMIN, Answer(200, "ok", Thing), body=Thing,
               problems={404: "no such thing"})
    def replace(thing_id: str) -> Response:
        return Response(body="")

    doc = build_document(app)
    validate(doc)
    open_op = doc["paths"]["/open"]["get"]
    assert open_op["security"] == [] and set(open_op["responses"]) == {"200", "415"}
    put = doc["paths"]["/things/{thing_id}"]["put"]
    assert set(put["responses"]) == {"200", "400", "401", "403", "404", "413", "415", "422",
                                     "503"}
    assert put["parameters"] == [{"name": "thing_id", "in": "path", "required": True,
                                  "schema": {"type": "string", "format": "uuid"}}]
    assert put["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Thing"}


@pytest.mark.parametrize(("context", "base"), [
    ({"path": "/openapi.json", "resourcePath": "/openapi.json"}, ""),  # local fronts
    ({"path": "/api/openapi.json", "resourcePath": "/openapi.json"}, "/api"),  # API Gateway stage
    ({}, ""),
])
def test_the_served_document_points_its_server_at_the_stage_it_was_reached_under(
    context: dict[str, str], base: str,
) -> None:
    assert base_path_of(context) == base
    served = served_document(function_app("product"), base)
    assert served["servers"] == [{"url": base or "/"}]
    assert served["paths"] == document("product")["paths"]
