"""Four eyes in the browser: the deletion page shows a request waiting for approval as its
requester confirmed it (count, list hash, the first 100 with thumbnails, reason), and another
operator approves or rejects it there, with a reason."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .. import deletions
from ..accounts.permissions import destructive, role_required
from .approval_panel import approval_context
from .deletions import find_deletion
from .guard_forms import ApprovalForm
from .live import deletion_live_context

bp = Blueprint("approvals", __name__)


def deletion_page(deletion_id: int, status: int = 200, **extra: Any) -> ResponseReturnValue:
    """The deletion page, with the approval panel (and a message when a decision failed)."""
    deletion = find_deletion(deletion_id)
    context = {**deletion_live_context(deletion), **approval_context(deletion), **extra}
    return render_template("deletions/deletion.html", deletion=deletion, **context), status


@bp.post("/deletions/<int:deletion_id>/approve")
@role_required("operator")
@destructive
def deletion_approve(deletion_id: int) -> ResponseReturnValue:
    """Send the request: approved by someone other than its requester, for the list shown."""
    find_deletion(deletion_id)
    form = ApprovalForm()
    if not form.validate():
        return deletion_page(deletion_id, 422, approval_message=form.first_error)
    try:
        deletions.approve(
            deletion_id,
            actor=current_user.username,
            reason=form.reason.data or "",
            seen_sha256=form.seen.data or "",
        )
    except deletions.ApprovalError as error:
        status = 403 if error.reason == "own-request" else 409
        return deletion_page(deletion_id, status, approval_message=error.message)
    flash(f"Deletion #{deletion_id} approved: it is being sent.", "success")
    return redirect(url_for("deletions.deletion_detail", deletion_id=deletion_id), 303)


@bp.post("/deletions/<int:deletion_id>/reject")
@role_required("operator")
def deletion_reject(deletion_id: int) -> ResponseReturnValue:
    """End the request without sending anything (allowed while read-only: it holds back)."""
    find_deletion(deletion_id)
    form = ApprovalForm()
    if not form.validate():
        return deletion_page(deletion_id, 422, approval_message=form.first_error)
    try:
        deletions.reject(deletion_id, actor=current_user.username, reason=form.reason.data or "")
    except deletions.ApprovalError as error:
        return deletion_page(deletion_id, 409, approval_message=error.message)
    flash(f"Deletion #{deletion_id} rejected: nothing was sent.", "info")
    return redirect(url_for("deletions.deletion_detail", deletion_id=deletion_id), 303)
