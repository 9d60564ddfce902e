"""Operations: upstream operations as rows (snapshots, samples, derived state), their progress
for display, the filtered list, and tracking an operation by id.

Owns the `operations` and `operation_samples` tables. May import `audit`, `metrics`, `models`,
`signals`, `upstream` and `wesog`; never `deletions`, the poller or views. Only the poller
fetches `GET /ops/{op_id}`; everything the web pages call here reads the database.
"""

from .identity import ensure_rows
from .markers import ended_since, operations_marker
from .pace import next_poll_delay, poll_interval
from .progress import Progress, progress
from .queries import (
    UNFINISHED,
    OpFilters,
    OpPage,
    load_operation,
    load_operations,
    operations_before,
    running_count,
)
from .snapshots import backoff_seconds, derive_state, record_snapshot
from .tracking import TrackError, parse_op_id, track, untrack
from .viewing import mark_viewed

__all__ = [
    "UNFINISHED",
    "OpFilters",
    "OpPage",
    "Progress",
    "TrackError",
    "backoff_seconds",
    "derive_state",
    "ended_since",
    "ensure_rows",
    "load_operation",
    "load_operations",
    "mark_viewed",
    "next_poll_delay",
    "operations_before",
    "operations_marker",
    "parse_op_id",
    "poll_interval",
    "progress",
    "record_snapshot",
    "running_count",
    "track",
    "untrack",
]
