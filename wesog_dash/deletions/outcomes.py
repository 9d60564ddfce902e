"""What operations mean for deletions: each image's outcome, the deletion's final state.

The poller, the dispatcher and discovery call `operation_updated` after storing a snapshot; an
operation that belongs to no deletion of ours only gets its `operation.ended` audit event.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import FINAL_DELETION_STATES, DeletionItem, DeletionRequest, Operation, utcnow

UNSETTLED = ("pending", "unknown")
LOST = "operation #{op} was lost upstream; each image is settled from its current state"


def operation_updated(row: Operation, *, errors_before: int = 0) -> None:
    """React to a stored snapshot: settle failures already named, or the whole operation."""
    if row.is_finished:
        finish_operation(row)
    elif len(row.errors or []) > errors_before:
        apply_known_failures(row)


def finish_operation(row: Operation) -> None:
    """Apply a finished operation's outcomes once: items, deletion state, audit (caller commits)."""
    if row.outcomes_applied or not row.is_finished:
        return
    row.outcomes_applied = True
    deletion = db.session.get(DeletionRequest, row.deletion_id) if row.deletion_id else None
    if deletion is None:
        audit.record(
            "operation.ended",
            actor="system",
            op_id=row.op_id,
            outcome=row.state,
            details={"method": row.method, "resource": row.resource, **_op_counts(row)},
        )
        return
    apply_item_outcomes(row, [item for item in deletion.items if item.op_id == row.op_id])
    settle_deletion(deletion)


def _op_counts(row: Operation) -> dict[str, int]:
    return {"num_total": row.num_total, "num_good": row.num_good, "num_bad": row.num_bad}


def error_messages(row: Operation, items: list[DeletionItem]) -> dict[int, str]:
    """Map item ids to their upstream error message (`errors[].id` compared as a string).

    The sandbox reports the image id; the reference (wesog-api.md §7 #9) allows the element's
    index for non-numeric ids, so an error id that names no image is tried as an index.
    """
    by_image = {item.image_id: item for item in items}
    found: dict[int, str] = {}
    unmatched: list[dict[str, Any]] = []
    for error in row.errors or []:
        item = by_image.get(str(error.get("id")))
        if item is None:
            unmatched.append(error)
        else:
            found[item.id] = str(error.get("msg") or "failed")
    for error in unmatched:
        index = str(error.get("id"))
        if index.isdecimal() and int(index) < len(items) and items[int(index)].id not in found:
            found[items[int(index)].id] = str(error.get("msg") or "failed")
    return found


def apply_known_failures(row: Operation) -> None:
    """Settle, while the operation still runs, the items its `errors` already name.

    An element's failure is final upstream, so the deletion page can show it at once instead
    of waiting for the whole operation to end (caller commits).
    """
    if row.deletion_id is None or not row.errors:
        return
    items = list(db.session.scalars(select(DeletionItem).where(DeletionItem.op_id == row.op_id)))
    messages = error_messages(row, sorted(items, key=lambda item: item.position))
    now = utcnow()
    for item in items:
        message = messages.get(item.id)
        if message is not None and item.outcome in UNSETTLED:
            item.outcome = "not_found" if "not found" in message.lower() else "failed"
            item.message, item.settled_at = message, now


def apply_item_outcomes(row: Operation, items: list[DeletionItem]) -> None:
    """Set deleted / failed / not_found on the unsettled items of a finished operation."""
    now = utcnow()
    messages = error_messages(row, sorted(items, key=lambda item: item.position))
    for item in items:
        if item.outcome not in UNSETTLED:
            continue
        message = messages.get(item.id)
        if message is None:
            item.outcome, item.message = "deleted", None
        else:
            item.outcome = "not_found" if "not found" in message.lower() else "failed"
            item.message = message
        item.settled_at = now


def settle_deletion(deletion: DeletionRequest, details: dict[str, Any] | None = None) -> bool:
    """Close a deletion whose items are all settled: done or done_with_errors, audited."""
    if deletion.state in FINAL_DELETION_STATES:
        return False
    items = list(deletion.items)
    if not items or any(item.outcome in UNSETTLED for item in items):
        return False
    counts = Counter(item.outcome for item in items)
    outcome = "done" if counts["deleted"] == len(items) else "done_with_errors"
    deletion.state, deletion.finished_at, deletion.next_attempt_at = outcome, utcnow(), None
    audit.record(
        "deletion.ended",
        actor="system",
        deletion_id=deletion.id,
        image_id=items[0].image_id if len(items) == 1 else None,
        outcome=outcome,
        details={
            "total": len(items),
            "deleted": counts["deleted"],
            "failed": counts["failed"],
            "not_found": counts["not_found"],
            **(details or {}),
        },
    )
    return True


def operation_lost(row: Operation) -> None:
    """The API forgot an operation of ours: its unsettled items are in doubt, and the deletion
    goes to the reconciler, which reads each image's state (caller commits)."""
    if row.deletion_id is None or row.is_finished:
        return
    deletion = db.session.get(DeletionRequest, row.deletion_id)
    if deletion is None or deletion.state in FINAL_DELETION_STATES:
        return
    doubt = [i for i in deletion.items if i.op_id == row.op_id and i.outcome == "pending"]
    if not doubt:
        return
    for item in doubt:
        item.outcome = "unknown"
    message = LOST.format(op=row.upstream_id)
    deletion.state, deletion.message, deletion.next_attempt_at = "unknown", message, utcnow()
    audit.record(
        "deletion.unknown", actor="system", deletion_id=deletion.id, op_id=row.upstream_id,
        outcome="unknown", details={"message": message, "items": len(doubt), "lost": True},
    )  # fmt: skip


def settle_lost() -> int:
    """Hand every deletion with items still pending on a lost operation to the reconciler
    (operations lost by retirement, or before this code ran); commits. Returns how many."""
    lost = select(Operation).where(
        Operation.state == "lost",
        Operation.deletion_id.is_not(None),
        Operation.is_finished.is_(False),
        select(DeletionItem.id)
        .where(DeletionItem.op_id == Operation.op_id, DeletionItem.outcome == "pending")
        .exists(),
    )
    rows = list(db.session.scalars(lost.limit(100)))
    for row in rows:
        operation_lost(row)
    db.session.commit()
    return len(rows)
