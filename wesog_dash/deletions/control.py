"""Taking a deletion back while it can be: undo (in its window), pause and resume its unsent
chunks, cancel them and the operations still queued upstream. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import update

from .. import audit, signals
from ..extensions import db
from ..models import DeletionItem, DeletionRequest, Operation, utcnow
from ..operations import record_snapshot
from ..upstream import wesog_client
from ..wesog import CancelResult, WesogError
from .outcomes import finish_operation, settle_deletion
from .queries import get_deletion, unsent_total
from .stopping import drop_unsent

PAUSABLE = ("scheduled", "pending")
CANCELLABLE = ("scheduled", "pending", "paused", "submitted")


class ControlError(ValueError):
    """The change is not possible now; the message says why (safe to show)."""

    # `reason` names the refusal for scripts (the API's problem types): not-found, too-late,
    # not-pausable, not-paused, finished.
    def __init__(self, message: str, reason: str = "refused") -> None:
        super().__init__(message)
        self.reason = reason


def _found(deletion_id: int) -> DeletionRequest:
    deletion = get_deletion(deletion_id)
    if deletion is None:
        raise ControlError(f"There is no deletion request #{deletion_id}.", "not-found")
    return deletion


def _move(deletion_id: int, states: tuple[str, ...], new: str) -> bool:
    """Change the state only from one of `states`, atomically against the sender."""
    result = db.session.execute(
        update(DeletionRequest)
        .where(DeletionRequest.id == deletion_id, DeletionRequest.state.in_(states))
        .values(state=new)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def undo(deletion_id: int, actor: str) -> DeletionRequest:
    """Cancel a deletion still in its undo window: nothing was sent (commits)."""
    _found(deletion_id)
    if not _move(deletion_id, ("scheduled",), "cancelled"):
        db.session.rollback()
        raise ControlError(
            f"Too late to undo: deletion #{deletion_id} is already being sent.", "too-late"
        )
    db.session.expire_all()
    deletion = _found(deletion_id)
    dropped = drop_unsent(deletion, f"undone by {actor}; nothing was sent")
    deletion.finished_at, deletion.next_attempt_at = utcnow(), None
    deletion.message = f"undone by {actor} before sending"
    audit.record(
        "deletion.undone", actor=actor, deletion_id=deletion.id, outcome="cancelled",
        image_id=_only_image(deletion), details={"items": dropped},
    )  # fmt: skip
    db.session.commit()
    return deletion


def _only_image(deletion: DeletionRequest) -> str | None:
    return deletion.items[0].image_id if deletion.item_count == 1 and deletion.items else None


def pause(deletion_id: int, actor: str) -> DeletionRequest:
    """Keep the unsent chunks in the outbox until resumed; it survives restarts (commits)."""
    _found(deletion_id)
    if not _move(deletion_id, PAUSABLE, "paused"):
        db.session.rollback()
        raise ControlError(
            "Only a deletion with chunks still to send can be paused.", "not-pausable"
        )
    db.session.expire_all()
    deletion = _found(deletion_id)
    audit.record("deletion.paused", actor=actor, deletion_id=deletion.id,
                 details={"unsent": unsent_count(deletion)})  # fmt: skip
    db.session.commit()
    return deletion


def resume(deletion_id: int, actor: str) -> DeletionRequest:
    """Send the unsent chunks again (or, when none is left, watch the operations)."""
    _found(deletion_id)
    if not _move(deletion_id, ("paused",), "pending"):
        db.session.rollback()
        raise ControlError("Only a paused deletion can be resumed.", "not-paused")
    db.session.expire_all()
    deletion = _found(deletion_id)
    deletion.next_attempt_at = None
    if not unsent_count(deletion):
        deletion.state = "submitted"
        settle_deletion(deletion)
    audit.record("deletion.resumed", actor=actor, deletion_id=deletion.id)
    db.session.commit()
    signals.wake()
    return deletion


@dataclass
class CancelReport:
    """What a cancel achieved, in words for one message."""

    dropped: int = 0
    cancelled_ops: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        """One sentence for the page (shown once)."""
        done = [f"{self.dropped} unsent image(s) dropped"] if self.dropped else []
        if self.cancelled_ops:
            done.append("operation(s) " + ", ".join(f"#{i}" for i in self.cancelled_ops)
                        + " cancelled upstream")  # fmt: skip
        head = "; ".join(done) or "Nothing was cancelled"
        return ". ".join([head[0].upper() + head[1:], *self.notes]) + "."


def cancel(deletion_id: int, actor: str) -> CancelReport:
    """Drop the unsent chunks and ask upstream to cancel the queued operations (commits)."""
    deletion = _found(deletion_id)
    if deletion.state not in CANCELLABLE:
        raise ControlError(
            f"Deletion #{deletion_id} is {deletion.state}: nothing to cancel.", "finished"
        )
    report = CancelReport()
    if _move(deletion_id, ("scheduled", "pending", "paused"), "cancelled"):
        db.session.expire_all()
        deletion = _found(deletion_id)
        report.dropped = drop_unsent(deletion, f"cancelled by {actor} before sending")
    # (row key, the id upstream knows it by): a retired incarnation keeps another key.
    queued = [(op.op_id, op.upstream_id) for op in deletion.operations
              if not op.is_started and not op.is_finished]  # fmt: skip
    db.session.commit()  # no transaction stays open while we wait for the network
    results = {key: _cancel_upstream(upstream_id) for key, upstream_id in queued}
    deletion = _found(deletion_id)
    for key, result in results.items():
        _apply(deletion, key, result, actor, report)
    _close(deletion, report, actor)
    db.session.commit()
    return report


def _cancel_upstream(op_id: int) -> CancelResult:
    try:
        return wesog_client().cancel_operation(op_id)
    except WesogError as exc:
        return CancelResult("failed", f"operation #{op_id} could not be cancelled: {exc.message}")


def _apply(
    deletion: DeletionRequest, op_id: int, result: CancelResult, actor: str, report: CancelReport
) -> None:
    """Items of a cancelled operation become `cancelled`; other answers become one note."""
    if not result.cancelled:
        if result.message not in report.notes:
            report.notes.append(result.message)  # "cannot cancel" is said once
        return
    row = db.session.get(Operation, op_id)
    report.cancelled_ops.append(row.upstream_id if row is not None else op_id)
    db.session.execute(
        update(DeletionItem)
        .where(DeletionItem.op_id == op_id, DeletionItem.outcome.in_(("pending", "unknown")))
        .values(
            outcome="cancelled", settled_at=utcnow(),
            message=f"cancelled upstream by {actor} before it ran",
        )
    )  # fmt: skip
    if result.operation is not None:
        row = record_snapshot(result.operation, origin="dashboard", deletion_id=deletion.id)
    if row is not None and row.is_finished:
        db.session.flush()
        finish_operation(row)


def _close(deletion: DeletionRequest, report: CancelReport, actor: str) -> None:
    if report.cancelled_ops and deletion.state == "submitted":
        deletion.state = "cancelled"
    if deletion.state == "cancelled" and deletion.finished_at is None:
        deletion.finished_at, deletion.next_attempt_at = utcnow(), None
        deletion.message = f"cancelled by {actor}"
    audit.record(
        "deletion.cancelled", actor=actor, deletion_id=deletion.id, outcome=deletion.state,
        details={"dropped": report.dropped, "cancelled_ops": report.cancelled_ops,
                 "notes": report.notes},
    )  # fmt: skip


def unsent_count(deletion: DeletionRequest) -> int:
    """Images of the request not handed to upstream yet."""
    db.session.flush()
    return unsent_total(deletion.id)
