"""What the API's answer to a chunk means for its deletion: the chunk's operation is attached,
or upstream refused it, or the outcome is in doubt, or it must be sent again later. Each moves
the request by a transition of `lifecycle` (a person may have paused or cancelled it while the
chunk was on its way: their state stands, and the chunk is settled as the API answered).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ... import audit
from ...config import settings
from ...extensions import db
from ...models import DeletionRequest, utcnow
from ...operations import backoff_seconds, record_snapshot
from ...wesog import OperationSnapshot
from .. import items, lifecycle
from ..lifecycle import DISPATCHER
from .outcomes import finish_operation, settle_deletion

ABANDONED = "the dashboard stopped while sending it; the outcome is unknown"


def attach(
    deletion: DeletionRequest,
    op: OperationSnapshot,
    item_ids: list[int],
    *,
    actor: str | None = None,
    details: dict[str, Any] | None = None,
) -> bool:
    """Store the operation that carries these items and move the request on (caller commits).

    False, changing no item, when the operation already belongs to another deletion.
    """
    row = record_snapshot(op, origin="dashboard", deletion_id=deletion.id)
    if row.deletion_id != deletion.id:
        return False
    assert op.op_id is not None
    db.session.flush()
    items.link_items(item_ids, op.op_id)
    audit.record(
        "deletion.submitted",
        actor=actor,
        deletion_id=deletion.id,
        op_id=op.op_id,
        image_id=items.only_image(deletion),
        details={"items": len(item_ids), **(details or {})},
    )
    chunk_answered(deletion)
    if row.is_finished:
        db.session.flush()
        finish_operation(row)
    return True


def chunk_answered(deletion: DeletionRequest, message: str | None = None) -> None:
    """The chunk on its way has its answer: on to the next one, or every chunk is sent.

    Paused, cancelled or stopped meanwhile: that state stands (caller commits).
    """
    db.session.flush()
    values: dict[str, Any] = {"message": message, "next_attempt_at": None}
    if items.has_unsent(deletion.id):
        onward = ("chunk_answered", "reconciled")
        if lifecycle.first_move(deletion.id, onward, DISPATCHER, **values):
            return
    elif lifecycle.move(
        deletion.id,
        "all_sent",
        DISPATCHER,
        submitted_at=deletion.submitted_at or utcnow(),
        **values,
    ):
        settle_deletion(deletion)
        return
    if deletion.state == "cancelling":
        items.drop_unsent(deletion.id, "cancelled before sending")
    settle_deletion(deletion)  # a winding-down deletion whose last work just ended


def reject(
    deletion: DeletionRequest, message: str, actor: str | None, *, not_found: bool = False
) -> None:
    """Upstream said no: the unsent items fail with its message (caller commits)."""
    now = utcnow()
    # Items settled already (e.g. inferred from the image's state) keep their outcome.
    outcome = "not_found" if not_found else "failed"
    refused = items.refuse_unsent(deletion.id, outcome, message, now)
    audit.record(
        "deletion.rejected",
        actor=actor,
        deletion_id=deletion.id,
        outcome="rejected",
        image_id=items.only_image(deletion),
        details={"message": message, "items": refused},
    )
    if items.any_sent(deletion.id):
        # Earlier chunks were accepted: their operations still run and settle the request.
        chunk_answered(deletion, message)
    elif not lifecycle.end(deletion.id, "refused", DISPATCHER, now, message=message):
        settle_deletion(deletion)  # cancelled or paused meanwhile: nothing of it runs now


def mark_unknown(
    deletion: DeletionRequest, item_ids: list[int], message: str, actor: str | None
) -> None:
    """The call may or may not have happened: reconcile later (caller commits)."""
    items.set_outcome(item_ids, "unknown")
    grace = settings().reconcile_grace
    lifecycle.move(
        deletion.id,
        "in_doubt",
        DISPATCHER,
        message=message,
        next_attempt_at=utcnow() + timedelta(seconds=grace),
    )
    audit.record(
        "deletion.unknown",
        actor=actor,
        deletion_id=deletion.id,
        outcome="unknown",
        image_id=items.only_image(deletion),
        details={"message": message, "items": len(item_ids)},
    )


def retry_later(
    deletion: DeletionRequest, item_ids: list[int], message: str, retry_after: float | None
) -> None:
    """Upstream did not carry it out (down, 5xx, 429): the chunk is unsent again, back off."""
    items.unclaim(item_ids)
    delay = backoff_seconds(deletion.attempts - 1)
    if retry_after:
        delay = max(delay, retry_after)
    later = utcnow() + timedelta(seconds=delay)
    if not lifecycle.move(
        deletion.id, "chunk_answered", DISPATCHER, message=message, next_attempt_at=later
    ):
        chunk_answered(deletion, message)  # paused or cancelled meanwhile: that state stands


def abandon(deletion: DeletionRequest) -> None:
    """A claim expired without an answer (caller commits): the chunk in flight, if one was,
    is in doubt; without one, nothing was sent since the last answer and sending goes on."""
    in_flight = items.in_flight(deletion.id)
    if in_flight:
        mark_unknown(deletion, [item_id for item_id, _ in in_flight], ABANDONED, "system")
    else:
        deletion.message, deletion.next_attempt_at = None, None
