"""The Wesog API routes of the sandbox: images (read, search, write), operations, thumbnails."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from .faults import drop_connection
from .operations import Element
from .oplog import parse_ops_query
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
# What jsonify writes (compact, ASCII, keys in insertion order), without its per-call set-up.
_COMPACT = json.JSONEncoder(separators=(",", ":"))
ElementsReader = Callable[[], list[Element]]


def sandbox_state() -> SandboxState:
    """The state of the sandbox app serving the current request."""
    return current_app.extensions["wesog_sandbox"]


def detail(message: str, status: int) -> tuple[Response, int]:
    """A FastAPI-style `{"detail": message}` error response."""
    return jsonify(detail=message), status


def _image_json(record: ImageRecord, fields: list[str], root: str) -> dict[str, Any]:
    """The Image as JSON, with the sandbox's own thumbnail URL when none was given."""
    data = dict(record.data)
    if data["url_img_thumbnail"] is None:
        # Computed per request so the URL points at whatever host/port the client used.
        data["url_img_thumbnail"] = root + record.thumb_path
    if fields:
        return {name: data[name] for name in dict.fromkeys(fields)}
    return data


# --- reads ------------------------------------------------------------------------------


@bp.get("/imgs", endpoint="image_search")
def image_search() -> Any:
    """Search images with the `q` formula, sorting, paging, projection and facets."""
    params = parse_search_params(request.args, sandbox_state().settings.dialect)
    # The id index gives the images the formula can match at most; the formula decides.
    result = run_search(sandbox_state().images_for(params.query.ids), params)
    root, dumps = request.url_root, _COMPACT.encode
    # Each image is encoded as soon as its dict is built, so the dicts die young: holding
    # 10,000 of them until one final encode got them promoted, and then the collector kept
    # rescanning the whole store (~0.5 s per full collection with 100,000 images).
    results = ",".join(dumps(_image_json(record, params.fields, root)) for record in result.page)
    count = dumps(result.count if params.count else None)
    body = f'{{"results":[{results}],"count":{count},"facets":{dumps(result.facets)}}}\n'
    return current_app.response_class(body, mimetype="application/json")


@bp.get("/imgs/<image_id>", endpoint="image")
def image(image_id: str) -> Any:
    """One image, optionally projected with `fields`."""
    params = QueryParams(request.args)
    fields = params.choices("fields", IMAGE_FIELDS)
    params.check()
    record = sandbox_state().get_image(image_id)
    if record is None:
        return detail("Not Found", 404)
    return jsonify(_image_json(record, fields, request.url_root))


# --- writes -----------------------------------------------------------------------------


def _submit(kind: str, read_elements: ElementsReader, with_lang: bool) -> Any:
    """Validate options and body together, queue the operation, answer 202 (or 200 when waited).

    The one-shot write faults apply here: a dropped connection before anything is created,
    a dropped connection once the operation exists, or an answer that comes late.
    """
    state = sandbox_state()
    if state.take("reset_before_create"):
        drop_connection()
    params = QueryParams(request.args)
    wait, urgent, strict = params.write_options(with_lang)
    elements: list[Element] = []
    try:
        elements = read_elements()
    except ValidationFailed as exc:
        params.errors.extend(exc.errors)
    params.check()
    op = state.submit(kind, elements, wait, urgent, strict)
    snapshot = state.describe(op)  # the answer describes the op as it was created
    if state.take("reset_after_create"):
        drop_connection()
    if state.take("late_answer"):
        state.pause(state.settings.late_answer_ms)
    if not wait:
        return jsonify(snapshot), 202
    final = state.wait_for(op)
    if final is None:  # a simulated restart forgot the op: the connection dies with it
        drop_connection()
    return jsonify(final), 200


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


def _hidden(op_id: int) -> bool:
    """True when the `ops_404` knob makes this existing op answer 404."""
    hidden = sandbox_state().settings.ops_404
    return hidden == "all" or op_id in hidden


@bp.get("/ops", endpoint="operations")
def operations() -> Any:
    """Operations with `op_id`, newest first: all of them, or a filtered page (see oplog)."""
    state = sandbox_state()
    if state.settings.dialect == "reference":
        return _no_store(jsonify(state.list_ops()))  # the bare array; parameters ignored
    ops, total = state.select_ops(parse_ops_query(request.args))
    response = _no_store(jsonify(ops))
    response.headers["X-Total-Count"] = str(total)  # matches of the filters, all pages
    return response


@bp.get("/ops/<op_id>", endpoint="operation")
def operation(op_id: str) -> Any:
    """One operation, without `op_id` (the caller already knows it)."""
    number = _op_id(op_id)
    snapshot = None if _hidden(number) else sandbox_state().get_op(number)
    if snapshot is None:
        return detail("Operation not found", 404)
    return _no_store(jsonify(snapshot))


@bp.delete("/ops/<op_id>", endpoint="operation_cancel")
def operation_cancel(op_id: str) -> Any:
    """Non-official extension: cancel an operation that has not started yet (409 otherwise)."""
    settings = sandbox_state().settings
    if not settings.cancel_supported or settings.dialect == "reference":
        # What an API without the route answers (FastAPI checks the method before the path).
        response, status = detail("Method Not Allowed", 405)
        response.headers["Allow"] = "GET"
        return response, status
    number = _op_id(op_id)
    if _hidden(number):
        return detail("Operation not found", 404)
    outcome, snapshot = sandbox_state().cancel_op(number)
    if outcome == "missing":
        return detail("Operation not found", 404)
    if outcome == "started":
        return detail("Operation already started or finished", 409)
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
