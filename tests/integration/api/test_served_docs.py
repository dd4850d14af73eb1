"""`GET /openapi.json` and `GET /docs` as each running service serves them."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
import requests

from shop_common.openapi import build_document
from tests.security.conftest import Services
from tests.support.functions import function_app

pytestmark = pytest.mark.integration

SERVICES = ["user", "product", "order"]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_serves_its_document_without_a_token(services: Services, service: str) -> None:
    response = requests.get(services.client(service).base_url + "/openapi.json", timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    served = response.json()
    assert served.pop("servers") == [{"url": "/"}]
    assert served == build_document(function_app(service))


def test_the_product_document_describes_the_product_api(services: Services) -> None:
    served = requests.get(services.product.base_url + "/openapi.json", timeout=30).json()
    assert served["info"]["title"] == "Serverless Shop: product service"
    assert {"/products", "/products/{product_id}", "/products/{product_id}/orders"} \
        <= set(served["paths"])


@pytest.mark.parametrize("form", ["/docs", "/docs/"])  # the same route, with or without
@pytest.mark.parametrize("service", SERVICES)
def test_the_docs_page_loads_only_its_own_files(services: Services, service: str,
                                                form: str) -> None:
    page_url = services.client(service).base_url + form
    page = requests.get(page_url, timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "SwaggerUIBundle" in page.text
    # Relative to the page as the browser asked for it: both reach /openapi.json.
    document = re.search(r'\burl: "([^"]+)"', page.text)
    assert document is not None and not document.group(1).startswith("/"), page.text
    served = requests.get(urljoin(page_url, document.group(1)), timeout=30)
    assert served.status_code == 200 and served.json()["openapi"].startswith("3.1")
    links = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    # Icons are inlined: a served PNG would reach a browser as base64 through API Gateway.
    icons = [link for link in links if link.startswith("data:image/png;base64,")]
    assert len(icons) == 2
    linked = [link for link in links if link not in icons]
    assert linked, page.text
    for link in linked:
        # Relative, so the page also works under an API Gateway stage prefix; no CDN.
        assert not link.startswith("/") and "//" not in link, link
        url = urljoin(page_url, link)
        assert url.startswith(services.client(service).base_url + "/docs/static/"), url
        asset = requests.get(url, timeout=30)
        assert asset.status_code == 200, (link, asset.text[:200])
        kind = asset.headers["Content-Type"]
        if link.endswith(".js"):
            assert kind == "text/javascript; charset=utf-8"
            assert "SwaggerUI" in asset.text
        else:
            assert link.endswith(".css") and kind == "text/css; charset=utf-8"


@pytest.mark.parametrize("asset", ["nope.js", "..%2F..%2Fapp.py", "swagger-editor.js"])
def test_a_file_the_page_does_not_use_is_a_404_problem(services: Services, asset: str) -> None:
    response = requests.get(f"{services.product.base_url}/docs/static/{asset}", timeout=30)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    # RFC 9457 §3.1.5: this occurrence, the path as requested, not `/docs/static/{asset}`.
    assert response.json()["instance"] == f"/docs/static/{asset}"
