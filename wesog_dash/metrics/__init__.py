"""Metrics: per-minute, per-hour and per-day rollups of operations, the overview's counters and
percentiles, its chart series and their SVG geometry, and the per-day reports (`reports`).

Owns the `metric_minutes`, `metric_hours` and `metric_days` tables. `rollups.note_snapshot`
is called by `operations.record_snapshot` in the same transaction as the snapshot it counts, so
a restart neither loses nor double-counts anything; `rebuild` recomputes the three tables from
operations and their samples; `retention` drops minute rows older than anything reads.
Everything else only reads. May import `models`, `extensions`
and `audit` (to neutralise CSV cells); never `operations`, `deletions`, the poller or views.
"""

from .counters import Counters, MethodTimings, counters
from .digest import bucket_of, percentile
from .overview import Bucket, Overview, overview
from .periods import PERIODS, Period, period_named
from .realtime import Realtime, realtime
from .rebuild import rebuild
from .retention import minutes_kept, prune_minutes, prune_old_minutes
from .rollups import batched, note_snapshot

__all__ = [
    "PERIODS",
    "Bucket",
    "Counters",
    "MethodTimings",
    "Overview",
    "Period",
    "Realtime",
    "batched",
    "bucket_of",
    "counters",
    "minutes_kept",
    "note_snapshot",
    "overview",
    "percentile",
    "period_named",
    "prune_minutes",
    "prune_old_minutes",
    "realtime",
    "rebuild",
]
