"""What operations mean for deletions: each image's outcome, the deletion's final state.

The poller, the dispatcher and discovery call `operation_updated` after storing a snapshot; an
operation that belongs to no deletion of ours only gets its `operation.ended` audit event.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select, update

from ... import audit, signals
from ...extensions import db
from ...inputs import whole_number
from ...models import FINAL_DELETION_STATES, DeletionItem, DeletionRequest, Operation, utcnow
from .. import items, lifecycle
from ..lifecycle import POLLER, WINDING_DOWN
from ..queries import WAITING, outcome_counts
from . import stopping

UNSETTLED = items.UNSETTLED
ENDED_COUNTS = ("deleted", "not_found", "failed", "not_sent", "cancelled")
LOST = "operation #{op} was lost upstream; each image is settled from its current state"


def operation_updated(
    row: Operation, *, errors_before: int = 0, ended: list[Operation] | None = None
) -> None:
    """React to a stored snapshot: settle failures already named, or the whole operation.

    With `ended`, an operation of no deletion of ours is added to it instead of getting its
    own audit event: the caller records one event for the whole batch.
    """
    if row.is_finished:
        finish_operation(row, ended=ended)
    elif len(row.errors or []) > errors_before:
        apply_known_failures(row)
    else:
        return
    _stop_rule(row)


def _stop_rule(row: Operation) -> None:
    """The stop rule, as each operation's results arrive (not only between two chunks)."""
    deletion = db.session.get(DeletionRequest, row.deletion_id) if row.deletion_id else None
    if deletion is not None and stopping.check(deletion, POLLER):
        settle_deletion(deletion)


def finish_operation(row: Operation, *, ended: list[Operation] | None = None) -> None:
    """Apply a finished operation's outcomes once: items, deletion state, audit (caller commits)."""
    if row.outcomes_applied or not row.is_finished:
        return
    row.outcomes_applied = True
    deletion = db.session.get(DeletionRequest, row.deletion_id) if row.deletion_id else None
    if deletion is None and ended is not None:
        ended.append(row)
        return
    if deletion is None:
        audit.record(
            "operation.ended",
            actor="system",
            op_id=row.op_id,
            outcome=row.state,
            details={"method": row.method, "resource": row.resource, **_op_counts(row)},
        )
        return
    apply_item_outcomes(row)
    settle_deletion(deletion)
    make_room()


def make_room() -> None:
    """An operation of ours ended: deletions waiting for room in flight are due now."""
    result = db.session.execute(
        update(DeletionRequest)
        .where(DeletionRequest.state == "pending", DeletionRequest.message == WAITING)
        .values(next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0):
        signals.wake()


def record_ended(rows: list[Operation]) -> None:
    """One `operation.ended` event for many operations of no deletion of ours (caller commits).

    A thousand of the tenant's operations may end in one refresh: one event names them all.
    """
    if not rows:
        return
    states = Counter(row.state for row in rows)
    details = {"count": len(rows), "op_ids": sorted(row.op_id for row in rows), **states}
    outcome = "finished_with_errors" if states["finished_with_errors"] else "finished"
    audit.record("operation.ended", actor="system", outcome=outcome, details=details)


def _op_counts(row: Operation) -> dict[str, int]:
    return {"num_total": row.num_total, "num_good": row.num_good, "num_bad": row.num_bad}


def failures_by_message(row: Operation) -> dict[str, list[str]]:
    """The operation's failed image ids grouped by message (`errors[].id` read as a string).

    The sandbox reports the image id; the reference (wesog-api.md §7 #9) allows the element's
    index for non-numeric ids, so an error id that names no image is tried as an index.
    """
    errors = [e for e in row.errors or [] if isinstance(e, dict)]
    named = items.ids_in_operation(row.op_id, [str(e.get("id")) for e in errors])
    by_message: dict[str, list[str]] = defaultdict(list)
    for error in errors:
        key, message = str(error.get("id")), str(error.get("msg") or "failed")
        if key not in named:
            key = _image_at_index(row.op_id, key, named) or ""
        if key:
            by_message[message].append(key)
    return dict(by_message)


def _image_at_index(op_id: int, index: str, named: set[str]) -> str | None:
    position = whole_number(index)
    if position is None:
        return None
    item_id = items.item_at(op_id, position)
    item = db.session.get(DeletionItem, item_id) if item_id is not None else None
    return item.image_id if item is not None and item.image_id not in named else None


def apply_known_failures(row: Operation) -> None:
    """Settle, while the operation still runs, the items its `errors` already name.

    An element's failure is final upstream, so the deletion page can show it at once instead
    of waiting for the whole operation to end (caller commits).
    """
    if row.deletion_id is None or not row.errors:
        return
    items.settle_failures(row.op_id, failures_by_message(row), utcnow())


def apply_item_outcomes(row: Operation) -> None:
    """Set failed / not_found on the items `errors` names, deleted on every other one."""
    now = utcnow()
    items.settle_failures(row.op_id, failures_by_message(row), now)
    items.settle_rest_deleted(row.op_id, now)


def settle_deletion(
    deletion: DeletionRequest, details: dict[str, Any] | None = None, actor: str = "system"
) -> bool:
    """End a deletion once nothing of it waits any more (caller commits): sent ones end done
    or done_with_errors, winding-down ones cancelled, stopped or paused. Audited."""
    state = deletion.state
    if state == "pausing":
        return _paused(deletion)
    if state not in ("submitted", *WINDING_DOWN):
        return False
    db.session.flush()
    if items.has_unsettled(deletion.id):
        return False  # the common case while a big request runs: no count of all its items
    counts = Counter(outcome_counts(deletion.id))
    total = sum(counts.values())
    if state == "submitted":
        state = "done" if counts["deleted"] == total else "done_with_errors"
    else:
        state = WINDING_DOWN[state]
    if not total or not lifecycle.end(deletion.id, state, POLLER, utcnow()):
        return False
    audit.record(
        "deletion.ended",
        actor=actor,
        deletion_id=deletion.id,
        image_id=items.first_image_id(deletion.id) if total == 1 else None,
        outcome=state,
        details={"total": total, **{o: counts[o] for o in ENDED_COUNTS}, **(details or {})},
    )
    return True


def _paused(deletion: DeletionRequest) -> bool:
    """A pausing deletion is paused once no chunk is on its way and no operation runs."""
    db.session.flush()
    if items.has_work_upstream(deletion.id):
        return False
    return lifecycle.move(deletion.id, "paused", POLLER)


def settle_winding_down() -> int:
    """End the pausing, cancelling and stopping deletions whose last work has ended (commits);
    a sweep behind the poller, for one whose last operation ended while its state changed."""
    query = select(DeletionRequest).where(DeletionRequest.state.in_(tuple(WINDING_DOWN)))
    settled = sum(settle_deletion(deletion) for deletion in db.session.scalars(query.limit(100)))
    db.session.commit()
    return settled


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
    message = LOST.format(op=row.upstream_id)
    if not lifecycle.move(
        deletion.id, "in_doubt", POLLER, message=message, next_attempt_at=utcnow()
    ):
        return  # pausing or cancelling: the sweep settles it once the items are known
    for item in doubt:
        item.outcome = "unknown"
    audit.record(
        "deletion.unknown",
        actor="system",
        deletion_id=deletion.id,
        op_id=row.upstream_id,
        outcome="unknown",
        details={"message": message, "items": len(doubt), "lost": True},
    )


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
