"""Stopping a deletion on failures (like S3 Batch Operations): when too many of its finished
images failed, its unsent chunks are dropped and it says why.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import update

from .. import audit
from ..extensions import db
from ..models import DeletionItem, DeletionRequest, utcnow
from .queries import outcome_counts

FINISHED = ("deleted", "failed", "not_found")


def threshold(deletion: DeletionRequest) -> tuple[float, int]:
    """(failure ratio, minimum finished images) of this request, else the configured ones."""
    ratio = deletion.stop_ratio
    if ratio is None:
        ratio = float(current_app.config["WESOG_STOP_FAILURE_RATIO"])
    minimum = deletion.stop_min_items
    if minimum is None:
        minimum = int(current_app.config["WESOG_STOP_MIN_ITEMS"])
    return ratio, max(1, minimum)


def stop_reason(deletion: DeletionRequest) -> str | None:
    """Why this deletion must stop sending, or None while it may go on."""
    ratio, minimum = threshold(deletion)
    counts = outcome_counts(deletion.id)
    finished = sum(counts.get(outcome, 0) for outcome in FINISHED)
    failed = counts.get("failed", 0)
    if finished < minimum or failed <= ratio * finished:
        return None
    return (
        f"stopped: {failed} of the {finished} finished images failed "
        f"({100 * failed / finished:.0f} %, more than {100 * ratio:.0f} % "
        f"after at least {minimum})"
    )


def drop_unsent(deletion: DeletionRequest, message: str) -> int:
    """Mark the items never handed to upstream `cancelled` (caller commits); how many.

    One UPDATE, never a load of every item (a request may hold 100,000 of them).
    """
    result = db.session.execute(
        update(DeletionItem)
        .where(
            DeletionItem.deletion_id == deletion.id,
            DeletionItem.op_id.is_(None),
            DeletionItem.outcome == "pending",
        )
        .values(outcome="cancelled", message=message, settled_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def stop(deletion: DeletionRequest, reason: str) -> None:
    """Stop sending: unsent items are dropped, operations already sent run on (caller commits)."""
    dropped = drop_unsent(deletion, "not sent: the deletion stopped on failures")
    deletion.state, deletion.message = "stopped", reason
    deletion.next_attempt_at, deletion.finished_at = None, utcnow()
    audit.record(
        "deletion.stopped", actor="system", deletion_id=deletion.id, outcome="stopped",
        details={"reason": reason, "dropped": dropped},
    )  # fmt: skip
