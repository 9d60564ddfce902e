"""Progress of one operation for display: counts, percentages, elapsed time and an ETA."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Operation, OperationSample, utcnow

CURVE_SAMPLES = 10  # the rate is taken over this many recent progress samples
CURVES = "wesog_recent_curves"  # app.extensions: (op_id, last_change_at) -> Curve | None
MAX_CURVES = 10_000  # remembered curves per process; forgetting only costs one more read


@dataclass(frozen=True)
class Progress:
    """What a progress bar and a timeline need to know about one operation."""

    total: int
    good: int
    bad: int
    done: int
    percent_good: float
    percent_bad: float
    percent_done: float
    elapsed_ms: float | None  # running: now − started_at; finished: exec_ms; queued: None
    eta_seconds: float | None  # only while running, and only when a rate is known


def _percent(part: int, total: int) -> float:
    return round(100.0 * part / total, 1) if total > 0 else 0.0


def progress(row: Operation, now: datetime | None = None) -> Progress:
    """Counts, percentages, elapsed time and ETA of `row` (reads samples, never upstream)."""
    now = now or utcnow()
    total, good, bad = row.num_total or 0, row.num_good or 0, row.num_bad or 0
    done = min(total, good + bad) if total else good + bad
    percent_done = _percent(done, total)
    if row.is_finished and total == 0:
        percent_done = 100.0
    return Progress(
        total=total,
        good=good,
        bad=bad,
        done=done,
        percent_good=_percent(good, total),
        percent_bad=_percent(bad, total),
        percent_done=percent_done,
        elapsed_ms=elapsed_ms(row, now),
        eta_seconds=eta_seconds(row, now) if _running(row) else None,
    )


def _running(row: Operation) -> bool:
    return row.is_started and not row.is_finished


def elapsed_ms(row: Operation, now: datetime) -> float | None:
    """Execution time so far (running) or in total (finished); None before the start."""
    if row.is_finished:
        return row.exec_ms
    if row.is_started and row.started_at is not None:
        return max(0.0, (now - row.started_at).total_seconds() * 1000)
    return None


@dataclass(frozen=True)
class Curve:
    """The recent pace of a running operation: items per second up to its newest sample."""

    newest_at: datetime
    per_second: float


def eta_seconds(row: Operation, now: datetime) -> float | None:
    """Seconds left at the recent rate of the progress curve, else at the average rate."""
    done = (row.num_good or 0) + (row.num_bad or 0)
    remaining = (row.num_total or 0) - done
    if remaining <= 0:
        return 0.0
    curve = recent_curve(row)
    if curve is not None:
        since_newest = max(0.0, (now - curve.newest_at).total_seconds())
        return max(0.0, remaining / curve.per_second - since_newest)
    # One sample only: upstream's own average since the start (exec_ms is its running value).
    if done > 0 and (row.exec_ms or 0) > 0:
        return remaining / (done / (row.exec_ms / 1000.0))
    return None


def recent_curve(row: Operation) -> Curve | None:
    """The rate over the last CURVE_SAMPLES samples, read once per change of the operation.

    A sample is written exactly when `last_change_at` moves (`snapshots.record_snapshot`), so
    (op_id, last_change_at) names one curve: the polls of a watched operation between two
    changes, every second from every open tab, need not read the same samples again.
    """
    memory = current_app.extensions.setdefault(CURVES, {})
    key = (row.op_id, row.last_change_at)
    if key not in memory:
        if len(memory) >= MAX_CURVES:
            memory.clear()
        memory[key] = _read_curve(row.op_id)
    return memory[key]


def _read_curve(op_id: int) -> Curve | None:
    samples = db.session.scalars(
        select(OperationSample)
        .where(OperationSample.op_id == op_id, OperationSample.is_started.is_(True))
        .order_by(OperationSample.id.desc())
        .limit(CURVE_SAMPLES)
    ).all()
    if len(samples) < 2:
        return None
    newest, oldest = samples[0], samples[-1]
    seconds = (newest.seen_at - oldest.seen_at).total_seconds()
    items = (newest.num_good + newest.num_bad) - (oldest.num_good + oldest.num_bad)
    if seconds <= 0 or items <= 0:
        return None
    return Curve(newest_at=newest.seen_at, per_second=items / seconds)
