"""The operations service: upstream snapshots in the database, their progress and outcomes.

Only the poller fetches `GET /ops/{op_id}`; everything here that the web pages call reads the
database.
"""

from .outcomes import apply_item_outcomes, finish_operation, settle_deletion
from .progress import Progress, progress
from .queries import OpFilters, OpPage, get_operation, list_operations, running_count
from .snapshots import derive_state, poll_interval, record_snapshot
from .tracking import TrackError, import_from_api, parse_op_id, track

__all__ = [
    "OpFilters",
    "OpPage",
    "Progress",
    "TrackError",
    "apply_item_outcomes",
    "derive_state",
    "finish_operation",
    "get_operation",
    "import_from_api",
    "list_operations",
    "parse_op_id",
    "poll_interval",
    "progress",
    "record_snapshot",
    "running_count",
    "settle_deletion",
    "track",
]
