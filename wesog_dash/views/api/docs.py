"""The OpenAPI document and the reference page drawn from it (public: they describe the API,
they hold no data)."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, render_template, url_for
from werkzeug.wrappers import Response

from . import bp
from .spec import build, operation

CACHE_KEY = "wesog_openapi"
METHODS = ("get", "post", "put", "patch", "delete")
OPENAPI_BODY = {
    "type": "object",
    "description": "an OpenAPI 3.1 document",
    "required": ["openapi", "info", "paths", "components"],
    "properties": {
        "openapi": {"type": "string"},
        "info": {"type": "object"},
        "paths": {"type": "object"},
        "components": {"type": "object"},
    },
}
PAGE_BODY = {"type": "string", "description": "an HTML page"}


def document() -> dict[str, Any]:
    """The OpenAPI document of /api/v1, built once per app."""
    found = current_app.extensions.get(CACHE_KEY)
    if found is None:
        found = current_app.extensions[CACHE_KEY] = build(current_app, bp.url_prefix or "")
    return found


@bp.get("/openapi.json")
@operation("This OpenAPI document", scope="public", responses={200: OPENAPI_BODY}, tag="meta")
def openapi_document() -> Response:
    """The OpenAPI 3.1 description of /api/v1, generated from the code."""
    response = jsonify(document())
    response.headers["Link"] = f'<{url_for("api.reference_page")}>; rel="help"'
    return response


@bp.get("/docs")
@operation(
    "The API reference page",
    scope="public",
    responses={200: PAGE_BODY},
    tag="meta",
    media="text/html",
)
def reference_page() -> str:
    """This document as an HTML page: every operation, its parameters, bodies and answers."""
    spec = document()
    operations = [
        {"path": path, "method": method, "path_parameters": item.get("parameters", []), **op}
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]
    return render_template("api/reference.html", spec=spec, operations=operations)
