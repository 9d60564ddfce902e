"""Deletions: the outbox of DESIGN.md and the whole state machine of a deletion request —
request (validate and commit before any call), send, reconcile a lost answer, and settle each
item's outcome from its operation.

Owns the `deletion_requests` and `deletion_items` tables, and `id_selections` (the exact ids of
a big deletion, resolved from a search in the background or parsed from a list, before it is
confirmed). May import `operations`, `audit`,
`models`, `signals`, `upstream` and `wesog`; never the poller or views.
"""

from .dispatcher import CHUNK_SIZE, SENDING, send
from .idlists import ids_from_file, ids_from_text
from .outbox import (
    MAX_IDS,
    MAX_REASON,
    MAX_TICKET,
    SELECTION_KINDS,
    DeletionInputError,
    clean_ids,
    id_problem,
    request_deletion,
)
from .outcomes import (
    finish_operation,
    operation_lost,
    operation_updated,
    record_ended,
    settle_deletion,
    settle_lost,
)
from .queries import (
    Work,
    get_deletion,
    item_summary,
    items_of,
    outcome_counts,
    pending_work,
    recent_deletions,
    waiting_for_room,
    wants_wait,
)
from .reconciler import INFERRED_MESSAGES, reconcile
from .selections import get_selection, preview, resolve, start_query, store_list, unresolved

__all__ = [
    "CHUNK_SIZE",
    "INFERRED_MESSAGES",
    "MAX_IDS",
    "MAX_REASON",
    "MAX_TICKET",
    "SELECTION_KINDS",
    "SENDING",
    "DeletionInputError",
    "Work",
    "clean_ids",
    "finish_operation",
    "get_deletion",
    "get_selection",
    "id_problem",
    "ids_from_file",
    "ids_from_text",
    "item_summary",
    "items_of",
    "operation_lost",
    "operation_updated",
    "outcome_counts",
    "pending_work",
    "preview",
    "recent_deletions",
    "reconcile",
    "record_ended",
    "request_deletion",
    "resolve",
    "send",
    "settle_deletion",
    "settle_lost",
    "start_query",
    "store_list",
    "unresolved",
    "waiting_for_room",
    "wants_wait",
]
