"""What ever happened to one image id: its deletion items, their operations, the audit events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import AuditEvent, DeletionItem, DeletionRequest, ImageSnapshot, Operation
from .queries import image_condition

MAX_EVENTS = 1000


@dataclass(frozen=True)
class Attempt:
    """One deletion item for the image: the request behind it and the operation that ran it."""

    item: DeletionItem
    request: DeletionRequest
    operation: Operation | None

    @property
    def settled_at(self) -> datetime | None:
        """When the outcome became known."""
        op_end = self.operation.finished_at if self.operation else None
        return self.item.settled_at or op_end or self.request.finished_at


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    at: datetime
    what: str
    actor: str | None = None
    detail: str | None = None
    outcome: str | None = None
    deletion_id: int | None = None
    op_id: int | None = None
    event_id: int | None = None


# One piece of the summary sentence: text, or a moment that pages show in the reader's zone.
Part = str | datetime | None


@dataclass(frozen=True)
class ImageHistory:
    """Everything known about one image id, oldest first, and the sentence that sums it up."""

    image_id: str
    attempts: list[Attempt]
    timeline: list[Entry]
    summary: tuple[Part, ...]  # a sentence in pieces; None stands for "an unknown time"
    events_truncated: bool


def _op(attempt: Attempt) -> str:
    if attempt.operation is not None:  # a retired incarnation is keyed apart: its real number
        return f"operation #{attempt.operation.upstream_id}"
    return f"operation #{attempt.item.op_id}" if attempt.item.op_id else "no operation"


def summarise(attempts: list[Attempt]) -> tuple[Part, ...]:
    """One plain sentence, in pieces: how the latest deletion attempt for the image ended."""
    if not attempts:
        return ("Never deleted through this console.",)
    latest = attempts[-1]
    item, request = latest.item, latest.request
    deleted = sum(1 for a in attempts if a.item.outcome == "deleted")
    if item.outcome == "deleted":
        again = f" (deleted {deleted} times through this console)" if deleted > 1 else ""
        inferred = " — inferred: the image is gone, no operation result confirms it" * item.inferred
        tail = (
            f" by {request.actor} — reason “{request.reason}” — in {_op(latest)}{again}{inferred}."
        )
        return ("Deleted on ", latest.settled_at, tail)
    if item.outcome == "failed":
        message = item.message or "no message from the API"
        return (f"Deletion failed: {message} ({_op(latest)}).",)
    if item.outcome == "not_found":
        return (
            f"Not found upstream when deletion ran ({_op(latest)}, ",
            latest.settled_at,
            f"); requested by {request.actor}, reason “{request.reason}”.",
        )
    if item.outcome == "not_sent":  # "Undone by ana before anything was sent."
        said = item.message or "taken back before it was sent"
        return (said[0].upper() + said[1:] + ".",)
    if item.outcome == "cancelled":
        return (f"Cancelled upstream before it ran ({_op(latest)}): nothing was deleted.",)
    if request.state == "rejected":
        return (
            f"Deletion request #{request.id} was refused by the API: {request.message or '—'}.",
        )
    return ("Deletion requested, still in progress.",)


def restored_parts(image_id: str) -> tuple[Part, ...]:
    """ " · Restored by ana on <time> (operation #N, its state)" for the latest restore, if any."""
    snapshot = db.session.scalars(
        select(ImageSnapshot)
        .where(ImageSnapshot.image_id == image_id, ImageSnapshot.restored_at.is_not(None))
        .order_by(ImageSnapshot.restored_at.desc())
        .limit(1)
    ).first()
    if snapshot is None:
        return ()
    op = snapshot.restore_operation
    state = op.state.replace("_", " ") if op is not None else "unknown"
    return (
        f" Restored by {snapshot.restored_by} on ",
        snapshot.restored_at,
        f" (operation #{snapshot.restore_op_id}, {state}).",
    )


def _attempt_entries(attempt: Attempt, seen_ops: set[int]) -> list[Entry]:
    """Timeline entries that come from the operation and the item, not from audit events."""
    op, item = attempt.operation, attempt.item
    found: list[Entry] = []
    if op is not None and op.op_id in seen_ops:
        op = None  # already on the timeline through another attempt
    elif op is not None:
        seen_ops.add(op.op_id)
    if op is not None and op.started_at:
        found.append(Entry(op.started_at, f"Operation #{op.op_id} started", op_id=op.op_id))
    if op is not None and op.finished_at:
        counts = f"{op.num_good} good, {op.num_bad} bad of {op.num_total}"
        found.append(
            Entry(op.finished_at, f"Operation #{op.op_id} finished", detail=counts, op_id=op.op_id)
        )
    if item.outcome != "pending" and attempt.settled_at:
        found.append(
            Entry(
                attempt.settled_at,
                "Outcome for this image (inferred)" if item.inferred else "Outcome for this image",
                detail=item.message,
                outcome=item.outcome,
                deletion_id=item.deletion_id,
                op_id=item.op_id,
            )
        )
    return found


def _event_entry(event: AuditEvent) -> Entry:
    return Entry(
        event.at,
        event.action,
        event.actor,
        event.reason,
        event.outcome,
        event.deletion_id,
        event.op_id,
        event.id,
    )


def image_history(image_id: str) -> ImageHistory:
    """Gather the attempts, the audit events and the summary for `image_id`."""
    items = db.session.scalars(
        select(DeletionItem)
        .where(DeletionItem.image_id == image_id)
        .options(selectinload(DeletionItem.deletion))
        .order_by(DeletionItem.id)
    ).all()
    attempts = [
        Attempt(item, item.deletion, db.session.get(Operation, item.op_id) if item.op_id else None)
        for item in items
    ]
    events = db.session.scalars(
        select(AuditEvent)
        .where(image_condition(image_id))
        .order_by(AuditEvent.id)
        .limit(MAX_EVENTS + 1)
    ).all()
    timeline = [_event_entry(e) for e in events[:MAX_EVENTS]]
    seen_ops: set[int] = set()
    for attempt in attempts:
        timeline.extend(_attempt_entries(attempt, seen_ops))
    timeline.sort(key=lambda entry: entry.at)
    summary = summarise(attempts) + restored_parts(image_id)
    return ImageHistory(image_id, attempts, timeline, summary, len(events) > MAX_EVENTS)
