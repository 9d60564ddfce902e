"""Four eyes through the API: approve or reject a deletion waiting for a second person."""

from __future__ import annotations

from flask_login import current_user
from werkzeug.wrappers import Response

from ... import deletions
from ...accounts.permissions import destructive, role_required
from ...shapes import schemas
from ...shapes.serialize import deletion_out
from . import bp
from .guard_models import Decision
from .problems import ApiProblem
from .reads import answer, deletion_or_404
from .spec import operation

SLUGS = {
    "not-found": "not-found",
    "own-request": "own-request",
    "not-awaiting": "not-awaiting-approval",
    "invalid": "invalid-request",
}


@bp.post("/deletions/<int:deletion_id>/approve")
@role_required("operator")
@destructive
@operation(
    "Approve a deletion",
    scope="operate",
    body={"application/json": Decision},
    responses={200: schemas.Deletion},
    problems=(400, 404, "own-request", "not-awaiting-approval"),
    tag="deletions",
)
def deletion_approve(deletion_id: int, body: Decision) -> Response:
    """Send a deletion waiting for approval; refused (403) to its own requester."""
    deletion_or_404(deletion_id)
    try:
        deletions.approve(
            deletion_id,
            actor=current_user.username,
            reason=body.reason,
            seen_sha256=body.ids_sha256,
        )
    except deletions.ApprovalError as error:
        raise ApiProblem(SLUGS[error.reason], error.message) from error
    return answer(deletion_out(deletion_or_404(deletion_id)))


@bp.post("/deletions/<int:deletion_id>/reject")
@role_required("operator")
@operation(
    "Reject a deletion",
    scope="operate",
    body={"application/json": Decision},
    responses={200: schemas.Deletion},
    problems=(400, 404, "not-awaiting-approval"),
    tag="deletions",
)
def deletion_reject(deletion_id: int, body: Decision) -> Response:
    """End a deletion waiting for approval without sending anything (allowed read-only)."""
    deletion_or_404(deletion_id)
    try:
        deletions.reject(deletion_id, actor=current_user.username, reason=body.reason)
    except deletions.ApprovalError as error:
        raise ApiProblem(SLUGS[error.reason], error.message) from error
    return answer(deletion_out(deletion_or_404(deletion_id)))
