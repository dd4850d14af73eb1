"""`GET /openapi.json` and `GET /docs` (Swagger UI) as ordinary routes of a Chalice app.

Being routes of the app itself, they work under any front (`chalice local`, the local
runtime, API Gateway) and ship with every deployment. Swagger UI comes from the
`swagger-ui-py` package (its HTML template and its build of swagger-ui-dist), served
from the package's files: no CDN, nothing fetched at run time. Every URL in the page
is relative, so it also works under an API Gateway stage prefix such as `/api`: the
page at `/docs` links `docs/static/…` and `openapi.json`, the page at `/docs/` (the same
route: API Gateway and `chalice local` ignore a trailing slash) links `./static/…` and
`../openapi.json`, chosen from the path the request asked for. The scripts and styles
are text (`text/javascript`, `text/css`), never base64. The page's two PNG icons are
inlined as `data:` URIs: API Gateway decodes a base64 (binary) response only for a
request whose first `Accept` type is a binary media type, and a browser's icon request
asks for `image/avif` or `image/webp` first, so a served PNG would reach it as base64 text
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html).
"""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path
from typing import Any

from chalice.app import Chalice, Response

from shop_common.api_spec import Access, Answer, Header, operation
from shop_common.errors import not_found
from shop_common.openapi import ApiInfo, build_document, describe
from shop_common.web import request_of, requested_path

DOCS_PREFIX = "docs"  # relative: the page at /docs loads docs/static/…
FOLDER_PREFIX = "."  # relative: the page at /docs/ loads ./static/…
TEXT = "; charset=utf-8"
ASSET_TYPES = {
    "swagger-ui.css": "text/css",
    "index.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
}
ICONS = ("favicon-32x32.png", "favicon-16x16.png")
SWAGGER_UI_PARAMETERS = {
    # Values are JavaScript source, as swagger-ui-py's template takes them; `url` is set
    # per page (swagger_ui_page).
    "persistAuthorization": "true",
    "displayOperationId": "true",
    "docExpansion": json.dumps("list"),
}


def swagger_ui_static_dir() -> Path:
    """The folder of Swagger UI's files (scripts, styles, icons) in the `swagger-ui-py` package."""
    from swagger_ui.utils import SWAGGER_UI_PY_ROOT  # imported on first use, never at start

    return Path(SWAGGER_UI_PY_ROOT) / "static"


def swagger_ui_page(app: Chalice, title: str, page_path: str = "/docs") -> str:
    """The Swagger UI HTML page for `app`, titled `title`, reading the app's `openapi.json`.

    Every URL in it is relative to `page_path`, the path the browser asked for
    (`/docs`, `/docs/`, or either behind a stage prefix: see the module docstring), and the
    two PNG icons are inlined as `data:` URIs. Raises OSError if an icon file of the
    package is missing.
    """
    from swagger_ui.core import ApplicationDocument

    in_folder = page_path.endswith("/")
    prefix = FOLDER_PREFIX if in_folder else DOCS_PREFIX
    page = ApplicationDocument(app, config_rel_url="/openapi.json", url_prefix=prefix,
                               title=title, parameters=dict(SWAGGER_UI_PARAMETERS))
    # Relative to the page, not under docs/ (ApplicationDocument sets its own `url`).
    page.parameters["url"] = json.dumps("../openapi.json" if in_folder else "openapi.json")
    html = str(page.doc_html)
    for icon in ICONS:
        data = base64.b64encode((swagger_ui_static_dir() / icon).read_bytes()).decode("ascii")
        html = html.replace(f'"{prefix}/static/{icon}"', f'"data:image/png;base64,{data}"')
    return html


def served_document(app: Chalice, base_path: str) -> dict[str, Any]:
    """The app's document with `servers` set to where this request reached it."""
    return {**_document(app), "servers": [{"url": base_path or "/"}]}


@cache
def _document(app: Chalice) -> dict[str, Any]:
    return build_document(app)


def base_path_of(context: dict[str, Any]) -> str:
    """The stage prefix in front of the routes: "/api" behind API Gateway, "" locally."""
    path, resource = str(context.get("path") or ""), str(context.get("resourcePath") or "")
    return path[:-len(resource)].rstrip("/") if resource and path.endswith(resource) else ""


def install_api_docs(app: Chalice, info: ApiInfo) -> None:
    """Add `GET /openapi.json`, `GET /docs` and `GET /docs/static/{asset}` to `app`."""
    describe(app, info)

    @app.route("/openapi.json", methods=["GET"])
    @operation("This service's OpenAPI 3.1 document", Access.PUBLIC,
               Answer(200, "the document", media_type="application/json",
                      schema={"type": "object", "required": ["openapi", "info", "paths"]}),
               uses_storage=False, tag="docs")
    def openapi_document() -> Response:
        body = served_document(app, base_path_of(request_of(app).context))
        return Response(body=json.dumps(body), status_code=200,
                        headers={"Content-Type": "application/json"})

    @app.route("/docs", methods=["GET"])
    @operation("Interactive API docs (Swagger UI)", Access.PUBLIC,
               Answer(200, "the Swagger UI page", media_type="text/html",
                      schema={"type": "string"}),
               uses_storage=False, tag="docs")
    def api_docs_page() -> Response:
        page = swagger_ui_page(app, info.title, requested_path(request_of(app)))
        return Response(body=page, status_code=200,
                        headers={"Content-Type": "text/html" + TEXT})

    @app.route("/docs/static/{asset}", methods=["GET"])
    @operation("A file of the Swagger UI page", Access.PUBLIC,
               Answer(200, "the file", media_type=tuple(sorted(set(ASSET_TYPES.values()))),
                      schema={"type": "string"},
                      headers=(Header("Cache-Control", "cached for a day"),)),
               problems={404: "no such file"}, uses_storage=False, tag="docs")
    def api_docs_asset(asset: str) -> Response:
        media_type = ASSET_TYPES.get(asset)
        if media_type is None:
            raise not_found("no such file")
        path = swagger_ui_static_dir() / asset
        return Response(body=path.read_text(), status_code=200, headers={
            "Content-Type": media_type + TEXT, "Cache-Control": "public, max-age=86400"})
