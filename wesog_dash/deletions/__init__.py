"""The deletions service: the outbox of DESIGN.md (request, send, reconcile)."""

from .dispatcher import CHUNK_SIZE, SENDING, send
from .outbox import (
    MAX_IDS,
    MAX_REASON,
    DeletionInputError,
    Work,
    get_deletion,
    items_of,
    outcome_counts,
    pending_work,
    recent_deletions,
    request_deletion,
)
from .reconciler import reconcile

__all__ = [
    "CHUNK_SIZE",
    "MAX_IDS",
    "MAX_REASON",
    "SENDING",
    "DeletionInputError",
    "Work",
    "get_deletion",
    "items_of",
    "outcome_counts",
    "pending_work",
    "recent_deletions",
    "reconcile",
    "request_deletion",
    "send",
]
