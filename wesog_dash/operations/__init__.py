"""Operations: upstream operations as rows (snapshots, samples, derived state), their progress
for display, the filtered list, and tracking an operation by id.

Owns the `operations` and `operation_samples` tables. May import `audit`, `metrics`, `models`,
`signals`, `upstream` and `wesog`; never `deletions`, the poller or views. Only the poller
fetches `GET /ops/{op_id}`; everything the web pages call here reads the database.
"""

from .progress import Progress, progress
from .queries import OpFilters, OpPage, get_operation, list_operations, running_count
from .snapshots import backoff_seconds, derive_state, poll_interval, record_snapshot
from .tracking import TrackError, parse_op_id, track
from .viewing import mark_viewed

__all__ = [
    "OpFilters",
    "OpPage",
    "Progress",
    "TrackError",
    "backoff_seconds",
    "derive_state",
    "get_operation",
    "list_operations",
    "mark_viewed",
    "parse_op_id",
    "poll_interval",
    "progress",
    "record_snapshot",
    "running_count",
    "track",
]
