"""The safety net of a deletion: undo, pause, resume, cancel, retry the failures, restore what
was deleted, and the completion report. Every change is a POST with a CSRF token; the
deletion page answers with a message shown once, a card (htmx) with its new state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from htmx_flask import make_response as htmx_response

from .. import deletions
from ..accounts.permissions import destructive, role_required
from ..upstream import UpstreamProblem
from .common import attachment, no_store, requester, undo_seconds, wants_fragment
from .deletions import find_deletion
from .words import plural

bp = Blueprint("safety", __name__)


def back(deletion_id: int, message: str, level: str = "success") -> ResponseReturnValue:
    """Back to the deletion page (or, for htmx, to the card) saying what happened, once."""
    if wants_fragment():
        return card(deletion_id, message, level)
    flash(message, level)
    return redirect(url_for("deletions.deletion_detail", deletion_id=deletion_id), 303)


def card(deletion_id: int, message: str, level: str) -> Response:
    """The card state of a deletion, with a toast."""
    deletion = find_deletion(deletion_id)
    item = deletions.find_item(deletion.id, request.form.get("image_id") or None)
    body = render_template("images/_card_deletion.html", deletion=deletion, item=item)
    events = {"toast": {"message": message, "level": level}, "ops-changed": True}
    return htmx_response(no_store(body), trigger=events)


def keyed(action: str, target: int, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run an action once per form: a form submitted twice (or in parallel) carries the same
    idempotency key and gets the first submission's answer."""
    key = deletions.clean_key(request.form.get("idempotency_key"))
    return deletions.once(key, f"{current_user.id}:{action}:{target}", run)


REFUSED = (deletions.ControlError, deletions.IdempotencyKeyError)


def run(deletion_id: int, change: Any, action: str) -> ResponseReturnValue:
    """Apply one control change and say what it did; a refusal is a message, never an error
    page."""
    try:
        done = keyed(
            action, deletion_id, lambda: {"said": change(deletion_id, current_user.username)}
        )
    except REFUSED as exc:
        return back(deletion_id, str(exc), "error")
    return back(deletion_id, done["said"])


@bp.post("/deletions/<int:deletion_id>/undo")
@role_required("operator")
def deletion_undo(deletion_id: int) -> ResponseReturnValue:
    """Undo a deletion still in its undo window: nothing is sent."""
    find_deletion(deletion_id)
    if request.form.get("source") == "toast" and wants_fragment():
        try:
            done = deletions.undo(deletion_id, current_user.username)
        except deletions.ControlError as exc:
            return _toast(str(exc), "error")
        return _toast(done, "success")
    return run(deletion_id, deletions.undo, "undo")


def _toast(message: str, level: str) -> Response:
    return htmx_response(
        no_store(""), trigger={"toast": {"message": message, "level": level}, "ops-changed": True}
    )


@bp.post("/deletions/<int:deletion_id>/pause")
@role_required("operator")
def deletion_pause(deletion_id: int) -> ResponseReturnValue:
    """Keep the unsent chunks in the outbox until resumed."""
    find_deletion(deletion_id)
    return run(deletion_id, deletions.pause, "pause")


@bp.post("/deletions/<int:deletion_id>/resume")
@role_required("operator")
@destructive
def deletion_resume(deletion_id: int) -> ResponseReturnValue:
    """Send the unsent chunks again."""
    find_deletion(deletion_id)
    return run(deletion_id, deletions.resume, "resume")


@bp.post("/deletions/<int:deletion_id>/cancel")
@role_required("operator")
def deletion_cancel(deletion_id: int) -> ResponseReturnValue:
    """Drop the unsent chunks and cancel the operations still queued upstream."""
    find_deletion(deletion_id)
    try:
        done = keyed("cancel", deletion_id, lambda: cancel_answer(deletion_id))
    except REFUSED as exc:
        return back(deletion_id, str(exc), "error")
    return back(deletion_id, done["said"], "success" if done["changed"] else "info")


def cancel_answer(deletion_id: int) -> dict[str, Any]:
    """What a cancel did, as an answer that can be given again."""
    report = deletions.cancel(deletion_id, current_user.username)
    return {"said": report.message, "changed": report.changed}


@bp.post("/deletions/<int:deletion_id>/retry")
@role_required("operator")
@destructive
def deletion_retry(deletion_id: int) -> ResponseReturnValue:
    """A new deletion of exactly the failed ids (one of them, from a card), same options."""
    find_deletion(deletion_id)
    only = request.form.get("image_id") or None

    def retry() -> dict[str, Any]:
        child = deletions.retry_failures(
            deletion_id,
            requester(),
            undo_seconds=undo_seconds(),
            only=only,
        )
        return {"child_id": child.id}

    try:
        child_id = keyed("retry", deletion_id, retry)["child_id"]
    except (deletions.DeletionInputError, *REFUSED) as exc:
        return back(deletion_id, str(exc), "error")
    return back(child_id, f"Retry of #{deletion_id}: deletion #{child_id} created.")


@bp.post("/deletions/<int:deletion_id>/restore")
@role_required("operator")
@destructive
def deletion_restore(deletion_id: int) -> ResponseReturnValue:
    """Re-add every deleted image of the request that can be restored, in one operation."""
    find_deletion(deletion_id)
    target = url_for("deletions.deletion_detail", deletion_id=deletion_id)
    return restore(lambda: [s.id for s in deletions.restorable(deletion_id)], target, deletion_id)


@bp.post("/snapshots/<int:snapshot_id>/restore")
@role_required("operator")
@destructive
def snapshot_restore(snapshot_id: int) -> ResponseReturnValue:
    """Re-add one image from the metadata kept when it was deleted (image history)."""
    image_id = request.form.get("image_id", "")
    if image_id and not deletions.id_problem(image_id):
        target = url_for("audit.image_history", image_id=image_id)
    else:
        target = url_for("images.image_list")
    return restore(lambda: [snapshot_id], target, -snapshot_id)


def restore(chosen: Callable[[], list[int]], target: str, key_target: int) -> ResponseReturnValue:
    """Send the restore (once per form); its operation is watched like any other."""

    def send() -> dict[str, Any]:
        snapshot_ids = chosen()
        row = deletions.restore(snapshot_ids, current_user.username)
        return {"op_id": row.upstream_id, "images": len(snapshot_ids), "row": row.op_id}

    try:
        done = keyed("restore", key_target, send)
    except (deletions.RestoreError, *REFUSED) as exc:
        flash(str(exc), "error")
        return redirect(target, 303)
    except UpstreamProblem as exc:
        flash(f"The restore was not sent: {exc.message}", "error")
        return redirect(target, 303)
    flash(
        f"Restore sent: operation #{done['op_id']} re-adds {done['images']} "
        f"{plural(done['images'], 'image')}.",
        "success",
    )
    return redirect(target, 303)


@bp.get("/deletions/<int:deletion_id>/report.csv")
@role_required("viewer")
def deletion_report(deletion_id: int) -> Response:
    """Every item of the request as CSV: id, title, outcome, message, operation, time."""
    find_deletion(deletion_id)
    return attachment(deletions.report_chunks(deletion_id), f"deletion-{deletion_id}-report.csv")
