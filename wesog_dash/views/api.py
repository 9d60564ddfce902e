"""The JSON API under /api/v1: personal Bearer tokens only, never cookies (so no CSRF)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, g, jsonify, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.wrappers import Response

from .. import deletions, operations
from ..accounts import tokens
from ..accounts.permissions import destructive, read_only, role_required
from ..deletions import DeletionInputError, request_deletion
from ..extensions import csrf
from ..models import DeletionRequest, Operation
from ..upstream import UpstreamProblem
from .common import error_page

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# No cookie ever authenticates here (see authenticate_by_token), so CSRF cannot apply.
csrf.exempt(bp)

OPERATION_FIELDS = (
    "op_id", "method", "resource", "num_total", "num_good", "num_bad", "is_started",
    "is_finished", "all_good", "do_wait", "do_urgent", "do_strict", "idle_ms", "exec_ms",
    "created_at", "started_at", "finished_at", "errors", "origin", "state", "first_seen_at",
    "last_polled_at", "last_change_at", "poll_failures", "last_poll_error", "deletion_id",
    "missing_since", "upstream_op_id",
)  # fmt: skip
DELETION_FIELDS = (
    "id", "created_at", "actor", "reason", "ticket", "do_wait", "do_urgent", "do_strict",
    "selection_kind", "selection_query", "item_count", "ids_sha256", "state", "message",
    "attempts", "submitted_at", "finished_at",
)  # fmt: skip
ITEM_FIELDS = ("position", "image_id", "op_id", "outcome", "inferred", "message", "settled_at")


class ApiInputError(ValueError):
    """The JSON body is not what the endpoint takes; the message says why."""


@bp.before_request
def authenticate_by_token() -> tuple[Response, int] | None:
    """Only `Authorization: Bearer <token>` authenticates; a session cookie is ignored."""
    user = tokens.user_for_token(tokens.bearer_token(request.headers.get("Authorization")))
    if user is None:
        message = "Send a valid personal token: Authorization: Bearer <token>."
        return jsonify(error="unauthorized", message=message), 401
    g._login_user = user  # Flask-Login's current_user, for this request only
    return None


@bp.errorhandler(HTTPException)
def json_error(error: HTTPException) -> tuple[Response, int]:
    """Errors as JSON with a readable message, never an HTML page."""
    code = error.code or 500
    name = (error.name or "error").lower().replace(" ", "_")
    response = jsonify(error=name, message=error.description)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response, code


@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
def routing_error(error: HTTPException) -> tuple[Response | str, int]:
    """An unknown URL or method under /api/ is answered in JSON too; elsewhere, the page."""
    if request.path.startswith(f"{bp.url_prefix}/"):
        return json_error(error)
    return error_page(error)


def as_json(value: Any) -> Any:
    """Datetimes as ISO 8601 (UTC); everything else as is."""
    return value.isoformat() if isinstance(value, datetime) else value


def operation_json(op: Operation) -> dict[str, Any]:
    """One operation as stored by the poller."""
    return {field: as_json(getattr(op, field)) for field in OPERATION_FIELDS}


def deletion_json(deletion: DeletionRequest) -> dict[str, Any]:
    """One deletion request with its items and operations."""
    data = {field: as_json(getattr(deletion, field)) for field in DELETION_FIELDS}
    data["op_ids"] = [op.op_id for op in deletion.operations]
    data["items"] = [
        {field: as_json(getattr(item, field)) for field in ITEM_FIELDS} for item in deletion.items
    ]
    return data


@bp.get("/me")
@role_required("viewer")
def me() -> Response:
    """Who this token belongs to, and whether the console is read-only."""
    return jsonify(username=current_user.username, role=current_user.role, read_only=read_only())


@bp.get("/ops/<int(signed=True):op_id>")
@role_required("viewer")
def operation(op_id: int) -> Response | tuple[Response, int]:
    """One operation, from the database (the poller keeps it fresh)."""
    op = operations.get_operation(op_id)
    if op is None:
        return jsonify(error="not_found", message=f"No operation {op_id} is known here."), 404
    return jsonify(operation_json(op))


@bp.get("/deletions/<int:deletion_id>")
@role_required("viewer")
def deletion(deletion_id: int) -> Response | tuple[Response, int]:
    """One deletion request, its items and their outcomes."""
    found = deletions.get_deletion(deletion_id)
    if found is None:
        message = f"No deletion request {deletion_id} exists."
        return jsonify(error="not_found", message=message), 404
    return jsonify(deletion_json(found))


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise ApiInputError(f"'{name}' must be true or false.")
    return value


def deletion_input(body: Any) -> dict[str, Any]:
    """Check the JSON body of POST /deletions; ApiInputError says what is wrong."""
    if not isinstance(body, dict):
        raise ApiInputError('Send a JSON object: {"image_ids": [...], "reason": "..."}.')
    ids = body.get("image_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ApiInputError("'image_ids' must be a non-empty list of image id strings.")
    reason, ticket = body.get("reason"), body.get("ticket")
    if not isinstance(reason, str) or not reason.strip():
        raise ApiInputError("'reason' is required: say why these images are deleted.")
    if ticket is not None and not isinstance(ticket, str):
        raise ApiInputError("'ticket' must be a string when given.")
    flags = {name: _flag(body, name) for name in ("wait", "urgent", "strict")}
    return {"image_ids": ids, "reason": reason, "ticket": ticket or None, **flags}


@bp.post("/deletions")
@role_required("operator")
@destructive
def create_deletion() -> tuple[Response, int, dict[str, str]] | tuple[Response, int]:
    """Ask for images to be deleted; answers 202 with the request to follow."""
    try:
        data = deletion_input(request.get_json(silent=True))
        ids = data.pop("image_ids")
        found = request_deletion(
            ids,
            data.pop("reason"),
            **data,
            selection_kind="list" if len(ids) > 1 else "single",
            selection_query=None,
            actor=current_user.username,
            user_id=current_user.id,
            remote_addr=request.remote_addr,
        )
    except (ApiInputError, DeletionInputError) as error:
        return jsonify(error="invalid_request", message=str(error)), 400
    except UpstreamProblem as error:
        return jsonify(error="upstream_error", message=error.message), 502
    location = url_for("api.deletion", deletion_id=found.id)
    return jsonify(deletion_json(found)), 202, {"Location": location}
