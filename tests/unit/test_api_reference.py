"""The README's API reference is what tools/api_reference.py makes of the current documents."""

from __future__ import annotations

from pathlib import Path

from shop_common.openapi import build_document
from tests.support.functions import function_app
from tools.api_reference import END, SERVICES, START, render

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_api_reference_is_generated_from_the_current_documents() -> None:
    text = README.read_text()
    assert START in text and END in text, "README has no API reference section"
    section = text[text.index(START):text.index(END) + len(END) + 1]
    current = render({service: build_document(function_app(service)) for service in SERVICES})
    assert section == current, "the API reference is stale: run `make api-reference`"


def test_the_reference_names_every_route_with_who_may_call_it() -> None:
    section = render({service: build_document(function_app(service)) for service in SERVICES})
    for service in SERVICES:
        for path, methods in function_app(service).routes.items():
            for method in methods:
                assert f"| {method} | `{path}` |" in section, (service, method, path)
    assert "| POST | `/products` | superadmin | `ProductBody` |" in section
    assert "| POST | `/products/{product_id}/orders` | enduser | `PlaceOrderBody` |" in section
    assert "`quantity` integer, 1 to 1000" in section
    assert "`GET /products` query `limit`: integer, 1 to 100" in section
