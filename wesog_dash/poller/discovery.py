"""Operations of the tenant that this console did not start: discovered by the poller as it
reads `GET /ops`, or imported by hand ("Import from API").

Also applies a page of the list to the operations we know: a listed snapshot counts as a poll
for the ones that are due or that changed, so one list call can refresh hundreds of rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from .. import audit, metrics
from ..config import settings
from ..deletions import finish_operation, operation_updated, record_ended
from ..extensions import db
from ..models import Operation, utcnow
from ..operations import derive_state, ensure_rows, next_poll_delay, record_snapshot
from ..operations.snapshots import SAMPLED_FIELDS
from ..upstream import upstream_call, wesog_client
from ..wesog import OperationSnapshot

LOAD_CHUNK = 500  # op ids per SELECT … IN (…)
WATCHED_FOR = timedelta(seconds=15)  # a page polled within this is "being looked at"


@dataclass
class Applied:
    """What one page (or walk) of the list did to our rows."""

    refreshed: set[int] = field(default_factory=set)  # known unfinished ops it refreshed
    listed: set[int] = field(default_factory=set)  # every op id it showed
    discovered: list[int] = field(default_factory=list)
    too_young: list[int] = field(default_factory=list)  # unknown, inside the grace period


def import_from_api(*, actor: str) -> int:
    """Record every operation `GET /ops` lists; returns how many were new to us."""
    with upstream_call("GET /ops"):  # before any write: no lock is held while waiting
        snapshots = wesog_client().list_operations()
    new = 0
    for op in snapshots:
        if op.op_id is None:
            continue
        is_new = db.session.get(Operation, op.op_id) is None
        row = record_snapshot(op, origin="imported")
        new += is_new
        if is_new and row.is_finished:
            # It ended before we knew it: nothing of ours to apply, nothing to announce.
            row.outcomes_applied = True
        elif row.is_finished:
            finish_operation(row)
    details = {"count": new, "listed": len(snapshots)}
    audit.record("operation.imported", actor=actor, details=details)
    db.session.commit()
    return new


def _load(op_ids: list[int]) -> tuple[dict[int, Operation], set[int]]:
    """The unfinished rows among `op_ids`, and every op id among them we know.

    A list that is the API's bare array holds every operation it remembers, mostly finished
    ones: those are known by their id alone (one range query), never loaded as rows.
    """
    if not op_ids:
        return {}, set()
    rows: dict[int, Operation] = {}
    for start in range(0, len(op_ids), LOAD_CHUNK):
        chunk = op_ids[start : start + LOAD_CHUNK]
        rows.update(
            (row.op_id, row)
            for row in db.session.scalars(
                select(Operation).where(
                    Operation.op_id.in_(chunk), Operation.is_finished.is_(False)
                )
            )
        )
    low, high = min(op_ids), max(op_ids)
    known = set(
        db.session.scalars(
            select(Operation.op_id).where(Operation.op_id >= low, Operation.op_id <= high)
        )
    )
    return rows, known


def _changed(row: Operation, op: OperationSnapshot) -> bool:
    """The snapshot moves the operation on (progress, start, end or a new error)."""
    if row.raw is None or len(op.errors) != len(row.errors or []):
        return True
    return any(getattr(row, name) != getattr(op, name) for name in SAMPLED_FIELDS)


def apply_listed(
    snapshots: Iterable[OperationSnapshot],
    due: set[int],
    *,
    discover: bool,
    now: datetime | None = None,
) -> Applied:
    """Store what one page of the list says; record unknown operations when discovering.

    A row that moved on (or that someone watches) gets the whole snapshot; an unchanged one
    is only marked as fetched, so that one list read keeps every row on one schedule without
    rewriting a thousand JSON documents. Commits once.
    """
    now = now or utcnow()
    listed = [op for op in snapshots if op.op_id is not None]
    rows, known = _load([op.op_id for op in listed if op.op_id is not None])
    applied = Applied(listed={op.op_id for op in listed if op.op_id is not None})
    ended: list[Operation] = []
    # Unknown operations old enough to be someone else's (a younger one may be ours, its
    # answer still on the way); their rows are made in a few statements before the loop.
    born_before = now - timedelta(seconds=settings().discover_grace)
    unknown = [op for op in listed if op.op_id not in known] if discover else []
    new = {op.op_id for op in unknown if op.created_at is None or op.created_at <= born_before}
    ensure_rows(sorted(i for i in new if i is not None), "discovered", now)
    # One rollup upsert per (method, minute), not per operation; and one flush at the end
    # (autoflush before each row's read flushed the previous row alone: 10,000 flushes).
    with metrics.batched(), db.session.no_autoflush:
        for op in listed:
            assert op.op_id is not None
            row = rows.get(op.op_id)
            if op.op_id in new:
                _discover(op, applied)
            elif op.op_id not in known:
                if discover:
                    applied.too_young.append(op.op_id)
            elif row is not None and not row.is_finished:
                _refresh(row, op, now, ended)
                applied.refreshed.add(op.op_id)
    record_ended(ended)
    if applied.discovered:
        first, last = min(applied.discovered), max(applied.discovered)
        details = {"count": len(applied.discovered), "first_op_id": first, "last_op_id": last}
        audit.record("operation.discovered", actor="system", details=details)
    db.session.commit()
    return applied


def _refresh(row: Operation, op: OperationSnapshot, now: datetime, ended: list[Operation]) -> None:
    """The whole snapshot when it moved on, is watched or was missing; else the fetch time."""
    watched = row.last_viewed_at is not None and row.last_viewed_at >= now - WATCHED_FOR
    if _changed(row, op) or watched or row.state in ("missing", "unknown"):
        errors_before = len(row.errors or [])
        record_snapshot(op)
        operation_updated(row, errors_before=errors_before, ended=ended)
        return
    row.last_polled_at, row.poll_failures, row.last_poll_error = now, 0, None
    row.next_poll_at = now + timedelta(seconds=next_poll_delay(row, now))
    row.state = derive_state(row, now)


def _discover(op: OperationSnapshot, applied: Applied) -> None:
    assert op.op_id is not None
    row = record_snapshot(op, origin="discovered")
    if row.is_finished:
        row.outcomes_applied = True  # it ended before we knew it: nothing to announce
    applied.discovered.append(op.op_id)
