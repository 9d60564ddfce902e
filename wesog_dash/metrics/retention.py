"""Pruning old minute rollups: only the last hour is ever read at minute resolution.

Readers of `metric_minutes`: the "last hour" period (60 minute buckets), the realtime chart
(10 minutes) and the failure-rate alert (the last 60 minutes). Every longer period reads
`metric_hours` or `metric_days`, which are kept by the same upserts independently of the
minutes (`rollups.upsert`), so dropping old minute rows changes no counter or percentile.
The poller deletes them a batch at a time, each batch its own short transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select

from ..config import settings
from ..extensions import db
from ..models import utcnow
from ..models.metrics import metric_minutes
from .periods import PERIODS, epoch_minute

# The longest span read at minute resolution (the "last hour" period and the alert).
READ_MINUTES = max(p.width * p.count for p in PERIODS if p.grain == "minute")
BATCH_MINUTES = 60  # minutes of rows per DELETE: a few hundred rows at most


def minutes_kept() -> int:
    """WESOG_METRIC_MINUTES_KEEP, never less than what the overview reads (60)."""
    return max(READ_MINUTES, settings().metric_minutes_keep)


def prune_minutes(now: datetime, keep: int | None = None) -> int:
    """Delete one batch of minute rows older than `keep` minutes before `now` (commits).

    Returns the rows deleted; 0 when nothing older is left.
    """
    t = metric_minutes.c
    cutoff = epoch_minute(now) - max(READ_MINUTES, keep or minutes_kept()) + 1
    oldest = db.session.scalar(select(func.min(t.minute)))
    if oldest is None or oldest >= cutoff:
        db.session.rollback()
        return 0
    result = db.session.execute(
        delete(metric_minutes).where(t.minute < min(cutoff, oldest + BATCH_MINUTES))
    )
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def prune_old_minutes() -> int:
    """Delete every minute row older than WESOG_METRIC_MINUTES_KEEP, batch after batch."""
    now, total = utcnow(), 0
    while deleted := prune_minutes(now):
        total += deleted
    return total
