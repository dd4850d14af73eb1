"""The route table read from a Chalice-generated Swagger document matches as API Gateway does."""

from __future__ import annotations

from typing import Any

import pytest

from shop_local.runtime.gateway.routes import RouteTable, RouteTableError

URI = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
       "arn:aws:lambda:us-east-1:123456789012:function:{name}/invocations")


def proxy(name: str = "shop-product-dev") -> dict[str, Any]:
    return {"x-amazon-apigateway-integration": {"type": "aws_proxy",
                                                "uri": URI.format(name=name)}}


def preflight() -> dict[str, Any]:
    return {"x-amazon-apigateway-integration": {
        "type": "mock",
        "responses": {"default": {"statusCode": "200", "responseParameters": {
            "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS'",
            "method.response.header.Access-Control-Allow-Origin": "'*'",
        }}},
    }}


SWAGGER: dict[str, Any] = {
    "x-amazon-apigateway-binary-media-types": ["image/png"],
    "paths": {
        "/": {"get": proxy()},
        "/products": {"get": proxy(), "post": proxy()},
        "/products/{id}": {"get": proxy(), "options": preflight()},
        "/products/featured": {"get": proxy("shop-product-dev-featured")},
        "/files/{path+}": {"x-amazon-apigateway-any-method": proxy()},
    },
}


@pytest.fixture(scope="module")
def table() -> RouteTable:
    return RouteTable(SWAGGER)


def test_can_match_a_literal_resource_and_name_its_function(table: RouteTable) -> None:
    match = table.match("GET", "/products")
    assert match is not None
    assert (match.resource, match.path_parameters) == ("/products", None)
    assert match.integration.type == "aws_proxy"
    assert match.integration.function_name == "shop-product-dev"


def test_a_literal_segment_wins_over_a_parameter(table: RouteTable) -> None:
    featured = table.match("GET", "/products/featured")
    assert featured is not None and featured.resource == "/products/featured"
    assert featured.integration.function_name == "shop-product-dev-featured"
    other = table.match("GET", "/products/42")
    assert other is not None and other.resource == "/products/{id}"
    assert other.path_parameters == {"id": "42"}


def test_path_parameters_are_url_decoded(table: RouteTable) -> None:
    match = table.match("GET", "/products/a%20b%2Fc")
    assert match is not None and match.path_parameters == {"id": "a b/c"}


def test_a_greedy_parameter_takes_the_rest_of_the_path_for_any_method(table: RouteTable) -> None:
    match = table.match("DELETE", "/files/a/b%20c/d.txt")
    assert match is not None and match.resource == "/files/{path+}"
    assert match.path_parameters == {"path": "a/b c/d.txt"}
    assert table.match("GET", "/files") is None  # greedy needs at least one segment


def test_undeclared_methods_and_resources_do_not_match(table: RouteTable) -> None:
    assert table.match("HEAD", "/products") is None  # no implicit HEAD
    assert table.match("DELETE", "/products") is None
    assert table.match("OPTIONS", "/products") is None  # no CORS declared there
    assert table.match("GET", "/nothing/here") is None
    assert table.match("GET", "/products/1/2") is None


def test_a_trailing_slash_is_ignored_except_on_the_root(table: RouteTable) -> None:
    assert table.match("GET", "/products/") is not None
    root = table.match("GET", "/")
    assert root is not None and root.resource == "/"


def test_a_declared_cors_preflight_is_a_mock_with_its_headers(table: RouteTable) -> None:
    match = table.match("OPTIONS", "/products/7")
    assert match is not None and match.integration.type == "mock"
    assert match.integration.status == 200
    assert dict(match.integration.headers) == {
        "Access-Control-Allow-Methods": "GET,OPTIONS", "Access-Control-Allow-Origin": "*"}


def test_lists_resources_and_binary_media_types(table: RouteTable) -> None:
    assert table.binary_media_types == ("image/png",)
    assert table.resources()["/products/{id}"] == ["GET", "OPTIONS"]


def test_an_integration_it_cannot_run_is_refused_by_name() -> None:
    swagger = {"paths": {"/x": {"get": {"x-amazon-apigateway-integration": {"type": "http"}}}}}
    with pytest.raises(RouteTableError, match="GET /x"):
        RouteTable(swagger)
