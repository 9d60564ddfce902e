"""Storing what upstream says about an operation: snapshot, derived state, next poll time."""

from __future__ import annotations

from datetime import datetime, timedelta

from .. import metrics, wesog
from ..config import settings
from ..extensions import db
from ..models import Operation, OperationSample, utcnow
from .identity import claim, current_row
from .pace import next_poll_delay

# The fields stored as upstream gave them: the snapshot's own declaration, less its key.
UPSTREAM_FIELDS = tuple(name for name in wesog.OperationFields.model_fields if name != "op_id")
MAX_ERROR_TEXT = 500  # an upstream message is kept at most this long
SAMPLED_FIELDS = ("num_good", "num_bad", "is_started", "is_finished")


def derive_state(row: Operation, now: datetime) -> str:
    """The display state: queued, running, finished(_with_errors), stale or unknown."""
    if row.raw is None:
        return "unknown"  # never fetched yet
    if row.is_finished:
        if row.cancelled_upstream:
            return "cancelled"
        return "finished_with_errors" if row.num_bad > 0 else "finished"
    since = row.last_change_at or row.first_seen_at
    # Both times are the console's clock (`clock.now`), so a stepped wall clock fakes no silence.
    if since is not None and (now - since).total_seconds() >= settings().stale_after:
        return "stale"
    return "running" if row.is_started else "queued"


def backoff_seconds(failures: int, base: float | None = None) -> float:
    """Exponential back-off after `failures` failures: base × 2^failures, capped.

    The one formula for every retry: polls, sends and reconciles. `base` defaults to
    WESOG_POLL_INTERVAL; the cap is WESOG_POLL_MAX_BACKOFF.
    """
    base = settings().poll_interval if base is None else base
    return min(settings().poll_max_backoff, base * 2 ** min(max(0, failures), 30))


def _sample_key(row: Operation) -> tuple[object, ...]:
    return tuple(getattr(row, name) for name in SAMPLED_FIELDS)


def record_snapshot(
    op: wesog.OperationSnapshot, *, origin: str = "dashboard", deletion_id: int | None = None
) -> Operation:
    """Upsert the row from an upstream snapshot, sample changes, schedule the next poll.

    With `deletion_id`, the row is claimed for that deletion unless another owns it already
    (operations never change owner: compare `row.deletion_id` to see who won). A snapshot of
    another incarnation of the op id gets a row of its own (see `identity`).
    """
    if op.op_id is None:
        raise ValueError("an operation snapshot without op_id cannot be stored")
    now = utcnow()
    row = current_row(op, origin)
    before = _sample_key(row) if row.raw is not None else None
    if deletion_id is not None and claim(row, deletion_id):
        row.origin = "dashboard"
    for name in UPSTREAM_FIELDS:
        setattr(row, name, getattr(op, name))
    row.errors = [{"id": error.id, "msg": error.msg[:MAX_ERROR_TEXT]} for error in op.errors]
    row.raw = dict(op.raw)
    row.last_polled_at, row.poll_failures, row.last_poll_error = now, 0, None
    row.missing_since = None
    after = _sample_key(row)
    if after != before:
        row.last_change_at = now
        # Added by key, not through row.samples, so that the whole curve is not loaded.
        values = dict(zip(SAMPLED_FIELDS, after, strict=True))
        db.session.add(OperationSample(op_id=row.op_id, seen_at=now, **values))
        metrics.note_snapshot(row, before, now)  # same transaction: counted exactly once
    row.state = derive_state(row, now)
    row.next_poll_at = (
        None if row.is_finished else now + timedelta(seconds=next_poll_delay(row, now))
    )
    return row
