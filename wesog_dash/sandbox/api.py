"""The Wesog API routes of the sandbox: images (read, search, write), operations, thumbnails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request

from .operations import Element
from .records import IMAGE_FIELDS, ImageRecord
from .search import parse_search_params, run_search
from .store import SandboxState
from .thumbnails import render_thumbnail, thumbnail_size
from .validation import (
    QueryParams,
    ValidationFailed,
    batch_elements,
    delete_elements,
    error,
    image_fields,
    load_json,
)

bp = Blueprint("wesog_api", __name__)
ElementsReader = Callable[[], list[Element]]


def sandbox_state() -> SandboxState:
    """The state of the sandbox app serving the current request."""
    return current_app.extensions["wesog_sandbox"]


def detail(message: str, status: int) -> tuple[Response, int]:
    """A FastAPI-style `{"detail": message}` error response."""
    return jsonify(detail=message), status


def _image_json(record: ImageRecord, fields: list[str]) -> dict[str, Any]:
    """The Image as JSON, with the sandbox's own thumbnail URL when none was given."""
    data = dict(record.data)
    if data["url_img_thumbnail"] is None:
        # Computed per request so the URL points at whatever host/port the client used.
        image_id = quote(record.image_id, safe="")
        data["url_img_thumbnail"] = f"{request.url_root}thumbs/{image_id}.svg"
    if fields:
        return {name: data[name] for name in dict.fromkeys(fields)}
    return data


# --- reads ------------------------------------------------------------------------------


@bp.get("/imgs", endpoint="image_search")
def image_search() -> Any:
    """Search images with the `q` formula, sorting, paging, projection and facets."""
    params = parse_search_params(request.args)
    result = run_search(sandbox_state().ordered_images(), params)
    return jsonify(
        results=[_image_json(record, params.fields) for record in result.page],
        count=result.count if params.count else None,
        facets=result.facets,
    )


@bp.get("/imgs/<image_id>", endpoint="image")
def image(image_id: str) -> Any:
    """One image, optionally projected with `fields`."""
    params = QueryParams(request.args)
    fields = params.choices("fields", IMAGE_FIELDS)
    params.check()
    record = sandbox_state().get_image(image_id)
    if record is None:
        return detail("Not Found", 404)
    return jsonify(_image_json(record, fields))


# --- writes -----------------------------------------------------------------------------


def _submit(kind: str, read_elements: ElementsReader, with_lang: bool) -> Any:
    """Validate options and body together, queue the operation, answer 202 (or 200 when waited)."""
    params = QueryParams(request.args)
    wait, urgent, strict = params.write_options(with_lang)
    elements: list[Element] = []
    try:
        elements = read_elements()
    except ValidationFailed as exc:
        params.errors.extend(exc.errors)
    params.check()
    state = sandbox_state()
    snapshot = state.submit(kind, elements, wait, urgent, strict)
    if wait:
        return jsonify(state.wait_for(snapshot["op_id"])), 200
    return jsonify(snapshot), 202


def _single(image_id: str, require_src: bool) -> ElementsReader:
    def read() -> list[Element]:
        payload, errors = image_fields(load_json(request.get_data()), ["body"], require_src, False)
        if errors:
            raise ValidationFailed(errors)
        return [Element(image_id, payload)]

    return read


def _batch(require_src: bool) -> ElementsReader:
    return lambda: batch_elements(load_json(request.get_data()), require_src)


@bp.post("/imgs/<image_id>", endpoint="image_add")
def image_add(image_id: str) -> Any:
    """Create (or, unless strict, overwrite) one image."""
    return _submit("add", _single(image_id, require_src=True), with_lang=True)


@bp.put("/imgs/<image_id>", endpoint="image_replace")
def image_replace(image_id: str) -> Any:
    """Replace one image's metadata; omitted fields are removed."""
    return _submit("put", _single(image_id, require_src=True), with_lang=True)


@bp.patch("/imgs/<image_id>", endpoint="image_modify")
def image_modify(image_id: str) -> Any:
    """Change only the given fields of one image."""
    return _submit("patch", _single(image_id, require_src=False), with_lang=True)


@bp.delete("/imgs/<image_id>", endpoint="image_delete")
def image_delete(image_id: str) -> Any:
    """Delete one image (`lang` is not part of this endpoint: accepted and ignored)."""
    return _submit("del", lambda: [Element(image_id)], with_lang=False)


@bp.post("/imgs", endpoint="images_add")
def images_add() -> Any:
    """Create N images."""
    return _submit("add", _batch(require_src=True), with_lang=True)


@bp.put("/imgs", endpoint="images_replace")
def images_replace() -> Any:
    """Replace N images."""
    return _submit("put", _batch(require_src=True), with_lang=True)


@bp.patch("/imgs", endpoint="images_modify")
def images_modify() -> Any:
    """Modify N images."""
    return _submit("patch", _batch(require_src=False), with_lang=True)


@bp.delete("/imgs", endpoint="images_delete")
def images_delete() -> Any:
    """Delete N images; body is a list of ids or of `{"id": ...}` objects."""
    return _submit("del", lambda: delete_elements(load_json(request.get_data())), with_lang=False)


# --- operations -------------------------------------------------------------------------


def _op_id(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        msg = "Input should be a valid integer, unable to parse string as an integer"
        raise ValidationFailed([error(["path", "op_id"], msg, "int_parsing", raw)]) from None


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # polled: must never be served stale
    return response


@bp.get("/ops", endpoint="operations")
def operations() -> Any:
    """All operations, newest first, with `op_id`; optional `page`/`limit`."""
    params = QueryParams(request.args)
    paged = "page" in request.args or "limit" in request.args
    page = params.integer("page", 1, 1, None) or 1
    limit = params.integer("limit", 50, 1, 10000) or 50
    params.check()
    state = sandbox_state()
    ops = state.list_ops((page - 1) * limit, limit) if paged else state.list_ops()
    return _no_store(jsonify(ops))


@bp.get("/ops/<op_id>", endpoint="operation")
def operation(op_id: str) -> Any:
    """One operation, without `op_id` (the caller already knows it)."""
    snapshot = sandbox_state().get_op(_op_id(op_id))
    if snapshot is None:
        return detail("Operation not found", 404)
    return _no_store(jsonify(snapshot))


@bp.delete("/ops/<op_id>", endpoint="operation_cancel")
def operation_cancel(op_id: str) -> Any:
    """Non-official extension: cancel an operation that has not started yet (409 otherwise)."""
    outcome, snapshot = sandbox_state().cancel_op(_op_id(op_id))
    if outcome == "missing":
        return detail("Operation not found", 404)
    if outcome == "started":
        return detail("Operation already started", 409)
    return jsonify(snapshot)


# --- thumbnails (not part of the Wesog API: no key, no injected faults) --------------------


@bp.get("/thumbs/<image_id>.svg", endpoint="thumbnail")
def thumbnail(image_id: str) -> Response:
    """A deterministic SVG for any image id, shaped like the image when it is known."""
    record = sandbox_state().get_image(image_id)
    width, height = thumbnail_size(
        record.data["width"] if record else None, record.data["height"] if record else None
    )
    response = Response(render_thumbnail(image_id, width, height), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
