"""The safety net of a deletion through the API: undo, pause, resume, cancel, retry the
failures, restore what was deleted, and the completion report (CSV).

The same services, roles and read-only switch as the browser's buttons (views/safety.py);
a refusal of the service is a 409 problem with one stable `type` per reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ... import deletions
from ...accounts.permissions import destructive, role_required
from ...shapes import schemas
from ...shapes.serialize import deletion_out
from ...upstream import UpstreamProblem
from ..common import attachment
from . import bp
from .inputs import RetryQuery
from .problems import ApiProblem
from .reads import answer, deletion_or_404
from .spec import operation
from .writes import UPSTREAM_SLUGS

# ControlError.reason -> problem type
REFUSALS = {
    "not-found": "not-found",
    "too-late": "undo-window-closed",
    "not-pausable": "not-pausable",
    "not-paused": "not-paused",
    "finished": "nothing-to-cancel",
}
CSV_BODY = {
    "type": "string",
    "description": "header `image_id,title,outcome,message,"
    "operation,time`, then one row per item in request order",
}


def refused(error: deletions.ControlError, usual: str) -> ApiProblem:
    """The problem a refusal of the control service becomes (`usual`: the action's own)."""
    return ApiProblem(REFUSALS.get(error.reason, usual), str(error))


def upstream_failed(error: UpstreamProblem) -> ApiProblem:
    """An upstream failure as writes.py answers it (502/503; 422 when refused)."""
    return ApiProblem(UPSTREAM_SLUGS.get(error.problem.kind, "upstream-unavailable"), error.message)


def keyed(action: str, target: int, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run an action once per `Idempotency-Key` header: the same key again (or in parallel)
    gets the first call's answer; without the header every call acts."""
    try:
        key = deletions.clean_key(request.headers.get("Idempotency-Key"))
    except deletions.IdempotencyKeyError as error:
        raise ApiProblem("invalid-request", str(error)) from error
    return deletions.once(key, f"{current_user.id}:{action}:{target}", run)


def control(
    deletion_id: int, change: Callable[[int, str], Any], usual: str, action: str
) -> Response:
    """Apply one control change as the token's user; the deletion as it is now."""
    deletion_or_404(deletion_id)
    try:
        done = keyed(
            action, deletion_id, lambda: {"said": change(deletion_id, current_user.username)}
        )
    except deletions.ControlError as error:
        raise refused(error, usual) from error
    return answered(deletion_id, done["said"])


def answered(deletion_id: int, said: str) -> Response:
    """The deletion as it is now, with the sentence saying what the action did."""
    data = deletion_out(deletion_or_404(deletion_id)).model_dump(mode="json")
    return answer(schemas.DeletionAnswer.model_validate({**data, "answer": said}))


@bp.post("/deletions/<int:deletion_id>/undo")
@role_required("operator")
@operation(
    "Undo a deletion",
    scope="operate",
    responses={200: schemas.DeletionAnswer},
    problems=(404, "undo-window-closed"),
    tag="safety",
)
def deletion_undo(deletion_id: int) -> Response:
    """Undo a deletion still in its undo window (WESOG_UNDO_SECONDS): nothing is sent.

    Only a deletion made in the browser has a window; API and CLI deletions are sent at once.
    Allowed while the console is read-only (nothing is deleted).
    """
    return control(deletion_id, deletions.undo, "undo-window-closed", "undo")


@bp.post("/deletions/<int:deletion_id>/pause")
@role_required("operator")
@operation(
    "Pause a deletion",
    scope="operate",
    responses={200: schemas.DeletionAnswer},
    problems=(404, "not-pausable"),
    tag="safety",
)
def deletion_pause(deletion_id: int) -> Response:
    """Keep the unsent chunks in the outbox until resumed (operations already sent run on)."""
    return control(deletion_id, deletions.pause, "not-pausable", "pause")


@bp.post("/deletions/<int:deletion_id>/resume")
@role_required("operator")
@destructive
@operation(
    "Resume a paused deletion",
    scope="operate",
    responses={200: schemas.DeletionAnswer},
    problems=(404, "not-paused"),
    tag="safety",
)
def deletion_resume(deletion_id: int) -> Response:
    """Send the unsent chunks of a paused deletion again."""
    return control(deletion_id, deletions.resume, "not-paused", "resume")


@bp.post("/deletions/<int:deletion_id>/cancel")
@role_required("operator")
@operation(
    "Cancel a deletion",
    scope="operate",
    responses={200: schemas.DeletionAnswer},
    problems=(404, "nothing-to-cancel", "cancel-refused-upstream"),
    tag="safety",
)
def deletion_cancel(deletion_id: int) -> Response:
    """Drop the unsent chunks and cancel the operations still queued upstream.

    When nothing at all could be cancelled (every chunk sent, and the Wesog API cancelled
    none of their operations) the answer is the `cancel-refused-upstream` problem.
    Allowed while the console is read-only.
    """
    state = deletion_or_404(deletion_id).state

    def cancel() -> dict[str, Any]:
        report = deletions.cancel(deletion_id, current_user.username)
        return {"said": report.message, "changed": report.changed}

    try:
        done = keyed("cancel", deletion_id, cancel)
    except deletions.ControlError as error:
        raise refused(error, "nothing-to-cancel") from error
    if not done["changed"] and deletion_or_404(deletion_id).state == state:
        raise ApiProblem("cancel-refused-upstream", done["said"])
    return answered(deletion_id, done["said"])


@bp.post("/deletions/<int:deletion_id>/retry")
@role_required("operator")
@destructive
@operation(
    "Retry the failures",
    scope="operate",
    query=RetryQuery,
    responses={202: schemas.Deletion},
    problems=(400, 404, "nothing-to-retry", 502, 503),
    tag="safety",
)
def deletion_retry(deletion_id: int, query: RetryQuery) -> Response:
    """A new deletion of exactly the failed ids (or only `image_id`), same reason and options.

    Answers 202 with the new deletion (its `retry_of_id` is this one; `Location` to follow
    it); it is sent at once, like every deletion made through the API.
    """
    parent = deletion_or_404(deletion_id)
    failed = [i for i in deletions.failed_ids(parent) if query.image_id in (None, i)]
    if not failed:
        named = f" named {query.image_id!r}" if query.image_id else ""
        detail = f"Deletion #{deletion_id} has no failed image{named} to retry."
        raise ApiProblem("nothing-to-retry", detail)

    def retry() -> dict[str, Any]:
        child = deletions.retry_failures(
            deletion_id,
            deletions.Requester(current_user.username, current_user.id, request.remote_addr),
            only=query.image_id,
        )
        return {"child_id": child.id}

    try:
        child = deletion_or_404(keyed("retry", deletion_id, retry)["child_id"])
    except deletions.DeletionInputError as error:
        raise ApiProblem("invalid-request", error.message) from error
    except UpstreamProblem as error:
        raise upstream_failed(error) from error
    response = answer(deletion_out(child), 202)
    response.headers["Location"] = url_for("api.deletion_detail", deletion_id=child.id)
    return response


@bp.post("/deletions/<int:deletion_id>/restore")
@role_required("operator")
@destructive
@operation(
    "Restore what was deleted",
    scope="operate",
    responses={202: schemas.Deletion},
    problems=(404, "nothing-to-restore", 502, 503),
    tag="safety",
)
def deletion_restore(deletion_id: int) -> Response:
    """Re-add every deleted image of the deletion that can be restored, in one operation.

    Answers 202 with the deletion; `Location` is the restore operation (GET /ops/{op_id}).
    """
    deletion_or_404(deletion_id)

    def send() -> dict[str, Any]:
        ids = [snapshot.id for snapshot in deletions.restorable(deletion_id)]
        row = deletions.restore(ids, current_user.username)
        return {"op_id": row.upstream_id, "images": len(ids), "row": row.op_id}

    try:
        op_id = keyed("restore", deletion_id, send)["row"]
    except deletions.RestoreError as error:
        detail = f"Deletion #{deletion_id}: {error}".rstrip(".") + "."
        raise ApiProblem("nothing-to-restore", detail) from error
    except UpstreamProblem as error:
        raise upstream_failed(error) from error
    response = answer(deletion_out(deletion_or_404(deletion_id)), 202)
    response.headers["Location"] = url_for("api.operation_detail", op_id=op_id)
    return response


@bp.get("/deletions/<int:deletion_id>/report.csv")
@role_required("viewer")
@operation(
    "Completion report (CSV)",
    scope="read",
    responses={200: CSV_BODY},
    problems=(404,),
    tag="safety",
    media="text/csv",
)
def deletion_report(deletion_id: int) -> Response:
    """Every item of the deletion as CSV: id, title, outcome, message, operation, time."""
    deletion_or_404(deletion_id)
    name = f"deletion-{deletion_id}-report.csv"
    return attachment(deletions.report_chunks(deletion_id), name)
