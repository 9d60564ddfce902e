"""Taking a deletion back while it can be: undo (in its window), pause and resume its unsent
chunks, cancel them and the operations still queued upstream. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import update

from ... import audit, signals
from ...extensions import db
from ...models import DeletionItem, DeletionRequest, Operation, utcnow
from ...operations import record_snapshot
from ...upstream import wesog_client
from ...wesog import CancelResult, WesogError
from ...wording import counted, plural
from .. import items, lifecycle
from ..lifecycle import CANCELLABLE, DISPATCHER, PERSON
from ..outcomes.outcomes import finish_operation, settle_deletion
from ..outcomes.stopping import drop_unsent
from ..queries import get_deletion, unsent_total

IN_FLIGHT = "1 chunk was already being sent; the rest is {}"


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


def undo(deletion_id: int, actor: str) -> str:
    """Cancel a deletion still in its undo window: nothing was sent (commits); what it did."""
    deletion = _found(deletion_id)
    done = f"Deletion #{deletion_id} undone: nothing was sent."
    if deletion.state == "cancelled" and (deletion.message or "").startswith("undone by"):
        return done  # undone already (a second click): the same answer
    now = utcnow()
    message = f"undone by {actor} before anything was sent"
    if not lifecycle.end(deletion_id, "undo", PERSON, now, message=message):
        db.session.rollback()
        state = _found(deletion_id).state
        sending = " (1 chunk is already being sent)" if state == "sending" else ""
        raise ControlError(
            f"Too late to undo: deletion #{deletion_id} is already being sent{sending}.",
            "too-late",
        )
    deletion = _found(deletion_id)
    dropped = drop_unsent(deletion, f"undone by {actor} before anything was sent")
    audit.record(
        "deletion.undone",
        actor=actor,
        deletion_id=deletion.id,
        outcome="cancelled",
        image_id=items.only_image(deletion),
        details={"items": dropped},
    )
    db.session.commit()
    return done


def pause(deletion_id: int, actor: str) -> str:
    """Keep the unsent chunks in the outbox until resumed; it survives restarts (commits).

    A chunk already claimed for sending goes on its way (and is said so); the request is
    `pausing` while work already upstream runs, then `paused`.
    """
    deletion = _found(deletion_id)
    if deletion.state in ("paused", "pausing"):
        return f"Deletion #{deletion_id} is paused."
    moved = lifecycle.first_move(deletion_id, ("pause_in_flight", "pause"), PERSON)
    if moved is None:
        db.session.rollback()
        raise ControlError(
            "Only a deletion with chunks still to send can be paused.", "not-pausable"
        )
    deletion = _found(deletion_id)
    in_flight = moved == "pause_in_flight"
    details = {"unsent": unsent_count(deletion), "in_flight": int(in_flight)}
    audit.record("deletion.paused", actor=actor, deletion_id=deletion.id, details=details)
    settle_deletion(deletion)
    db.session.commit()
    if in_flight:
        return f"Deletion #{deletion_id}: {IN_FLIGHT.format('paused')}."
    return f"Deletion #{deletion_id} paused."


def resume(deletion_id: int, actor: str) -> str:
    """Send the unsent chunks again (or, when none is left, watch the operations)."""
    _found(deletion_id)
    if not lifecycle.move(deletion_id, "resume", PERSON, next_attempt_at=None):
        db.session.rollback()
        raise ControlError("Only a paused deletion can be resumed.", "not-paused")
    deletion = _found(deletion_id)
    if not unsent_count(deletion):
        submitted_at = deletion.submitted_at or utcnow()
        lifecycle.move(deletion_id, "all_sent", DISPATCHER, submitted_at=submitted_at)
        settle_deletion(deletion)
    audit.record("deletion.resumed", actor=actor, deletion_id=deletion.id)
    db.session.commit()
    signals.wake()
    return f"Deletion #{deletion_id} resumed."


@dataclass
class CancelReport:
    """What a cancel achieved, in words for one message."""

    dropped: int = 0
    cancelled_ops: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    in_flight: bool = False  # a chunk was claimed for sending before the cancel: it went
    already: bool = False  # cancelled before (a second click)

    @property
    def message(self) -> str:
        """One sentence for the page (shown once)."""
        if self.already:
            return "This deletion is already cancelled."
        done = [IN_FLIGHT.format("cancelled")] if self.in_flight else []
        done += [f"{counted(self.dropped, 'unsent image')} dropped"] if self.dropped else []
        if self.cancelled_ops:
            done.append(
                plural(len(self.cancelled_ops), "operation")
                + " "
                + ", ".join(f"#{i}" for i in self.cancelled_ops)
                + " cancelled upstream"
            )
        head = "; ".join(done) or "Nothing was cancelled"
        return ". ".join([head[0].upper() + head[1:], *self.notes]) + "."

    @property
    def changed(self) -> bool:
        """True when the cancel took something back (or had, the first time)."""
        return bool(self.already or self.in_flight or self.dropped or self.cancelled_ops)


def cancel(deletion_id: int, actor: str) -> CancelReport:
    """Drop the unsent chunks and ask upstream to cancel the queued operations (commits)."""
    deletion = _found(deletion_id)
    if deletion.state in ("cancelling", "cancelled"):
        return CancelReport(already=True)
    if deletion.state not in CANCELLABLE:
        raise ControlError(
            f"Deletion #{deletion_id} is {deletion.state}: nothing to cancel.", "finished"
        )
    report = CancelReport()
    moved = lifecycle.first_move(deletion_id, ("cancel_in_flight", "cancel"), PERSON)
    if moved is not None:
        report.in_flight = moved == "cancel_in_flight" or bool(items.in_flight(deletion_id))
        report.dropped = drop_unsent(_found(deletion_id), f"cancelled by {actor} before sending")
    # (row key, the id upstream knows it by): a retired incarnation keeps another key.
    queued = [
        (op.op_id, op.upstream_id)
        for op in _found(deletion_id).operations
        if not op.is_started and not op.is_finished
    ]
    db.session.commit()  # no transaction stays open while we wait for the network
    results = {key: _cancel_upstream(upstream_id) for key, upstream_id in queued}
    if moved is None and any(result.cancelled for result in results.values()):
        lifecycle.move(deletion_id, "cancel_sent", PERSON)  # before the items settle
    deletion = _found(deletion_id)
    for key, result in results.items():
        _apply(deletion, key, result, actor, report)
    _close(_found(deletion_id), report, actor)
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
            outcome="cancelled",
            settled_at=utcnow(),
            message=f"cancelled upstream by {actor} before it ran",
        )
    )
    if result.operation is not None:
        row = record_snapshot(result.operation, origin="dashboard", deletion_id=deletion.id)
    if row is not None and row.is_finished:
        db.session.flush()
        finish_operation(row)


def _close(deletion: DeletionRequest, report: CancelReport, actor: str) -> None:
    cancelling = deletion.state == "cancelling"
    outcome = "cancelled" if cancelling else deletion.state
    if cancelling:
        deletion.message = f"cancelled by {actor}"
    audit.record(
        "deletion.cancelled",
        actor=actor,
        deletion_id=deletion.id,
        outcome=outcome,
        details={
            "dropped": report.dropped,
            "cancelled_ops": report.cancelled_ops,
            "in_flight": int(report.in_flight),
            "notes": report.notes,
        },
    )
    if cancelling:
        settle_deletion(deletion, actor=actor)  # cancelled now, unless work upstream still runs


def unsent_count(deletion: DeletionRequest) -> int:
    """Images of the request not handed to upstream yet."""
    db.session.flush()
    return unsent_total(deletion.id)
