"""The Swagger UI page's links resolve to the app's own routes from `/docs` and `/docs/`.

A browser resolves a relative URL against the page's address, so what `docs/static/x.js`
means depends on whether the page was asked for as `/docs` or `/docs/`; both reach the
same route (API Gateway and `chalice local` ignore a trailing slash). Nothing is served
over the network here: the page is rendered, and routed through Chalice's test client.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin, urlsplit

import pytest
from chalice.app import Chalice
from chalice.test import Client

from shop_common.docs import ASSET_TYPES, install_api_docs, swagger_ui_page
from shop_common.openapi import ApiInfo
from shop_common.web import install_http_middleware

HOST = "https://shop.example.com"


def build_app() -> Chalice:
    app = Chalice(app_name="docs-test")
    install_http_middleware(app)
    install_api_docs(app, ApiInfo(title="Docs test", version="1.0.0", description="a test"))
    return app


def resolved_links(html: str, page_path: str) -> tuple[list[str], str]:
    """The paths a browser at `page_path` fetches for the page's files and its document."""
    base = HOST + page_path
    links = [link for link in re.findall(r'(?:src|href)="([^"]+)"', html)
             if not link.startswith("data:image/png;base64,")]
    document = re.search(r'\burl: ("[^"]*")', html)
    assert document is not None, html
    return ([urlsplit(urljoin(base, link)).path for link in links],
            urlsplit(urljoin(base, json.loads(document.group(1)))).path)


@pytest.mark.parametrize("stage", ["", "/api"])  # locally; behind an API Gateway stage
@pytest.mark.parametrize("form", ["/docs", "/docs/"])
def test_every_link_of_the_page_reaches_a_route_of_the_app(stage: str, form: str) -> None:
    html = swagger_ui_page(build_app(), "Docs test", stage + form)
    assert html.count('"data:image/png;base64,') == 2  # the icons, inlined
    assets, document = resolved_links(html, stage + form)
    assert sorted(assets) == sorted(f"{stage}/docs/static/{name}" for name in ASSET_TYPES)
    # Relative, never rooted: a rooted link would lose the stage prefix.
    assert document == f"{stage}/openapi.json"


@pytest.mark.parametrize("form", ["/docs", "/docs/"])
def test_the_served_page_links_relative_to_the_path_it_was_asked_for(form: str) -> None:
    with Client(build_app()) as client:
        page = client.http.get(form)
        assert page.status_code == 200
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assets, document = resolved_links(page.body.decode(), form)
        for path in [*assets, document]:
            fetched = client.http.get(path)
            assert fetched.status_code == 200, (form, path, fetched.body[:200])
