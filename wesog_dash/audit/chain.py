"""Proving the audit log intact (`verify`) and the one sanctioned way to shorten it (`prune`).

Pruning and the chain: `prune(before)` deletes a prefix of the chain (every event older than
the first event at or after `before`) and then records an `audit.pruned` event whose details
hold the count and the hash of the last removed event. The first remaining event still carries
that hash as its `prev_hash`; `verify` accepts it as the start of the chain only because a
(hash-protected) `audit.pruned` event vouches for exactly that hash. Any other start, apart from
GENESIS_HASH, means events were removed behind the console's back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, func, select, true

from ..extensions import db
from ..models import AuditEvent, AuditHead
from . import recording
from .hashing import FIELDS, GENESIS_HASH, stored, stored_iso, stored_row_hash

BATCH = 5000
_TABLE = AuditEvent.__table__
# FIELDS then `hash`, with `at` and `details` as the stored text (see stored_row_hash).
RAW_COLUMNS = [
    stored(_TABLE.c[name]) if name in ("at", "details") else _TABLE.c[name]
    for name in (*FIELDS, "hash")
]
ID, AT, PREV_HASH, HASH = 0, 1, len(FIELDS) - 1, len(FIELDS)


@dataclass(frozen=True)
class Checkpoint:
    """A point of the chain known to be good: the last event verified, and how many led to it."""

    event_id: int
    hash: str
    at: datetime
    count: int
    first_id: int


@dataclass(frozen=True)
class ChainReport:
    """The verdict of a walk: intact up to `last`, or broken at `broken_id` because `problem`."""

    count: int
    last: Checkpoint | None
    broken_id: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        """True when no broken link was found."""
        return self.broken_id is None

    def summary(self) -> str:
        """One line, as `flask audit verify` prints it."""
        if not self.intact:
            return f"chain broken at event #{self.broken_id}: {self.problem}"
        if self.last is None:
            return "chain intact: 0 events (the log is empty)"
        when = self.last.at.strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"chain intact: {self.count} events, up to event #{self.last.event_id} at {when}"


def stream_rows(after_id: int = 0, batch: int = BATCH) -> Iterator[Row[Any]]:
    """Raw RAW_COLUMNS rows with id > after_id, in id order, in keyset batches (constant memory)."""
    while True:
        rows = (
            db.session.connection()
            .execute(
                select(*RAW_COLUMNS)
                .where(AuditEvent.id > after_id)
                .order_by(AuditEvent.id)
                .limit(batch)
            )
            .all()
        )
        yield from rows
        if len(rows) < batch:
            return
        after_id = rows[-1][ID]


def pruned_hashes() -> set[str]:
    """Hashes of last-removed events, as vouched for by the recorded `audit.pruned` events."""
    rows = db.session.scalars(select(AuditEvent.details).where(AuditEvent.action == "audit.pruned"))
    return {str(d["last_removed_hash"]) for d in rows if d and d.get("last_removed_hash")}


def _link_problem(
    row: Row[Any], previous: Row[Any] | Checkpoint | None, starts: set[str]
) -> str | None:
    """What is wrong with raw `row` as the successor of `previous` (None: nothing)."""
    if stored_row_hash(row) != row[HASH]:
        return "its content no longer matches its hash: the row was changed after it was written"
    prev_hash, event_id = row[PREV_HASH], row[ID]
    if previous is None:
        if prev_hash in starts:
            return None
        return (
            "it is the first event, but its prev_hash is neither the genesis hash nor the hash "
            "of an event removed by a recorded prune: earlier events were deleted"
        )
    before_id, before_hash = _id_and_hash(previous)
    if prev_hash == before_hash:
        return None
    if prev_hash == GENESIS_HASH:
        return "its prev_hash is the genesis hash although events precede it: the head was reset"
    if event_id - before_id > 1:
        return (
            f"its prev_hash does not match the hash of event #{before_id} before it: "
            f"the event(s) between #{before_id} and #{event_id} were deleted"
        )
    return (
        f"its prev_hash does not match the hash of event #{before_id} before it: "
        f"event #{before_id} was changed and re-hashed, or events after it were "
        "deleted (SQLite then reuses their ids)"
    )


def _id_and_hash(link: Row[Any] | Checkpoint) -> tuple[int, str]:
    if isinstance(link, Checkpoint):
        return link.event_id, link.hash
    return link[ID], link[HASH]


def _head_problem(last: Checkpoint | None) -> tuple[int, str] | None:
    """Does the walk end where the head row says the chain ends? (id, problem) if not."""
    head = db.session.execute(select(AuditHead.event_id, AuditHead.hash)).first()
    if head is None:
        if last is None:
            return None
        return last.event_id, "the chain head record (audit_head) is missing"
    if last is None or head.event_id > last.event_id:
        after = f" after #{last.event_id}" if last else ""
        return head.event_id, f"it is missing: the newest events{after} were deleted"
    if head.event_id < last.event_id:
        return last.event_id, (
            f"it is newer than the recorded head (#{head.event_id}): "
            "it was added outside the console"
        )
    if head.hash != last.hash:
        return last.event_id, "the chain head record does not match this event's hash"
    return None


def verify(since: Checkpoint | None = None, batch: int = BATCH) -> ChainReport:
    """Walk the chain in id order (from `since`, a trusted checkpoint, if given)."""
    count = since.count if since else 0
    if since is not None:
        stored = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.id == since.event_id))
        if stored != since.hash:
            problem = "it changed or vanished since it was last verified"
            return ChainReport(count, None, since.event_id, problem)
    starts = {GENESIS_HASH} | pruned_hashes()
    first_id = since.first_id if since else 0
    previous: Row[Any] | Checkpoint | None = since
    for row in stream_rows(since.event_id if since else 0, batch):
        broken = _link_problem(row, previous, starts)
        if broken:
            return ChainReport(count, _as_checkpoint(previous, count, first_id), row[ID], broken)
        count += 1
        first_id = first_id or row[ID]
        previous = row
    last = _as_checkpoint(previous, count, first_id)
    head = _head_problem(last)
    if head:
        return ChainReport(count, last, head[0], head[1])
    return ChainReport(count, last)


def _as_checkpoint(
    link: Row[Any] | Checkpoint | None, count: int, first_id: int
) -> Checkpoint | None:
    """The walk's last good link as a Checkpoint (built once, not per row: it parses a time)."""
    if link is None or isinstance(link, Checkpoint):
        return link
    at = datetime.fromisoformat(stored_iso(link[AT]))
    return Checkpoint(link[ID], link[HASH], at, count, first_id)


@dataclass(frozen=True)
class PrunePlan:
    """What `prune(before)` removes: ids below `keep_from` (None: every event)."""

    before: datetime
    count: int
    keep_from: int | None
    last_removed_id: int | None
    last_removed_hash: str | None
    last_removed_at: datetime | None

    def describe(self) -> str:
        """A sentence for the CLI."""
        if not self.count:
            return f"No event is older than {self.before:%Y-%m-%d %H:%M UTC}: nothing to prune."
        return (
            f"{self.count} events older than {self.before:%Y-%m-%d %H:%M UTC} "
            f"(up to event #{self.last_removed_id} of {self.last_removed_at:%Y-%m-%d %H:%M UTC})"
        )


def _prefix(keep_from: int | None) -> ColumnElement[bool]:
    """The events before `keep_from`, or all of them when nothing is kept."""
    return AuditEvent.id < keep_from if keep_from is not None else true()


def plan_prune(before: datetime) -> PrunePlan:
    """Which prefix of the chain lies before `before` (the first event at/after it is kept)."""
    keep_from = db.session.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.at >= before))
    count = (
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(_prefix(keep_from)))
        or 0
    )
    last = db.session.execute(
        select(AuditEvent.id, AuditEvent.hash, AuditEvent.at)
        .where(_prefix(keep_from))
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    return PrunePlan(
        before,
        count,
        keep_from,
        last.id if last else None,
        last.hash if last else None,
        last.at if last else None,
    )


def prune(before: datetime, *, actor: str) -> PrunePlan:
    """Delete the events older than `before` and record `audit.pruned` (one commit)."""
    plan = plan_prune(before)
    if not plan.count:
        return plan
    table = AuditEvent.__table__
    db.session.execute(delete(table).where(_prefix(plan.keep_from)))
    recording.record(
        "audit.pruned",
        actor=actor,
        details={
            "count": plan.count,
            "before": before.isoformat(),
            "last_removed_id": plan.last_removed_id,
            "last_removed_hash": plan.last_removed_hash,
        },
    )
    db.session.commit()
    return plan
