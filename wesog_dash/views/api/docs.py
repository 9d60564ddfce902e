"""The OpenAPI document (public: it describes the API, it holds no data)."""

from __future__ import annotations

from flask import current_app, jsonify, url_for
from werkzeug.wrappers import Response

from . import bp
from .spec import build, operation

CACHE_KEY = "wesog_openapi"


@bp.get("/openapi.json")
@operation("This OpenAPI document", scope="public", responses={200: None}, tag="meta")
def openapi_document() -> Response:
    """The OpenAPI 3.1 description of /api/v1, generated from the code."""
    document = current_app.extensions.get(CACHE_KEY)
    if document is None:
        document = build(current_app, bp.url_prefix or "")
        current_app.extensions[CACHE_KEY] = document
    response = jsonify(document)
    response.headers["Link"] = f'<{url_for("static", filename="api.html")}>; rel="help"'
    return response
