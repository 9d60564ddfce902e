"""When to read an operation again: the usual intervals, and a short back-off for the young
operations of our deletions, whose end frees room for the next chunk of a bulk deletion."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ..config import settings
from ..extensions import db
from ..models import Operation

YOUNG_MIN = 0.05  # seconds: the soonest a young operation of ours is read again


def poll_interval(row: Operation) -> float:
    """Seconds until the next regular poll: fast while running, slower while queued."""
    if row.is_started:
        return settings().poll_interval
    return settings().queued_poll_interval


def next_poll_delay(row: Operation, now: datetime) -> float:
    """Seconds until the next poll of an unfinished operation.

    One this console sent for a deletion is read again at its expected end (`expected_end`)
    or, with nothing to go by yet, at half its age: never sooner than YOUNG_MIN, never later
    than the usual interval. Noticing its end late would leave the next chunk unsent.
    """
    interval = poll_interval(row)
    if row.deletion_id is None:
        return interval
    expected = expected_end(row)
    if expected is None:
        expected = (now - (row.first_seen_at or now)).total_seconds() / 2
    return min(interval, max(YOUNG_MIN, expected))


def expected_end(row: Operation) -> float | None:
    """Seconds until an operation of ours should end: its own pace once it shows progress,
    else the pace of its deletion's last finished operation over the elements left in it and
    in our unfinished operations sent before it (the API's queue runs them first)."""
    done = row.num_good + row.num_bad
    if row.is_started and done and row.exec_ms:
        return (row.num_total - done) * row.exec_ms / done / 1000
    last = db.session.execute(
        select(Operation.exec_ms, Operation.num_total)
        .where(
            Operation.deletion_id == row.deletion_id,
            Operation.is_finished.is_(True),
            Operation.num_total > 0,
        )
        .order_by(Operation.op_id.desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    ahead = db.session.scalar(
        select(
            func.coalesce(func.sum(Operation.num_total - Operation.num_good - Operation.num_bad), 0)
        ).where(
            Operation.deletion_id == row.deletion_id,
            Operation.is_finished.is_(False),
            Operation.op_id < row.op_id,
        )
    )
    return (int(ahead or 0) + row.num_total - done) * last.exec_ms / last.num_total / 1000
