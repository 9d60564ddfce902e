"""Deletions: the outbox of DESIGN.md and the whole state machine of a deletion request —
request (validate and commit before any call), send, reconcile a lost answer, and settle each
item's outcome from its operation. Every state and transition, with who may cause it, is the
one table of `lifecycle`; each transition is one conditional UPDATE.

By stage, each a sub-package that imports only the ones below it (an import-linter contract):
`safety` (undo, pause, cancel, retry, restore, the report, idempotency keys) over `intake`
(request, ids people bring, selections, four eyes) over `sending` (dispatcher, pacing, room in
flight, keeping snapshots) over `outcomes` (answers, outcomes, the failure stop, reconciling a
lost answer), over the shared core here: `lifecycle`, `items`, `queries`, `listing`, `markers`.

Owns the `deletion_requests`, `deletion_items` and `image_snapshots` tables, and `id_selections`
(the exact ids of a big deletion, resolved from a search in the background or parsed from a
list, before it is confirmed). May import `operations`, `audit`, `models`, `signals`,
`upstream` and `wesog`; never the poller or views.
"""

from .intake.approval import (
    ApprovalError,
    approval_event,
    approve,
    expire_due,
    expires_at,
    reject,
    waiting,
)
from .intake.awaiting import AWAITING
from .intake.idlists import ids_from_file, ids_from_text
from .intake.outbox import (
    MAX_IDS,
    MAX_REASON,
    MAX_TICKET,
    SELECTION_KINDS,
    DeletionInputError,
    DeletionOptions,
    Requester,
    clean_ids,
    id_problem,
    request_deletion,
    request_selected,
)
from .intake.pasted import Review, review_ids, split_pasted
from .intake.selections import get_selection, preview, resolve, start_query, store_list, unresolved
from .lifecycle import CANCELLABLE, PAUSABLE
from .markers import deletions_marker
from .outcomes.outcomes import (
    finish_operation,
    operation_lost,
    operation_updated,
    record_ended,
    settle_deletion,
    settle_lost,
    settle_winding_down,
)
from .outcomes.reconciler import INFERRED_MESSAGES, reconcile
from .outcomes.stopping import stop_reach
from .queries import (
    WAITING,
    Work,
    card_items,
    deletions_before,
    find_item,
    get_deletion,
    item_summary,
    items_after,
    items_of,
    latest_items,
    outcome_counts,
    outcome_counts_of,
    pending_work,
    recent_deletions,
    wants_wait,
)
from .safety.control import CancelReport, ControlError, cancel, pause, resume, undo
from .safety.once import IdempotencyKeyError, clean_key, once, prune_keys
from .safety.report import failed_id_text, report_chunks
from .safety.restore import (
    RestoreError,
    prune_snapshots,
    restorable,
    restore,
    restore_problem,
    snapshots_of,
)
from .safety.retry import failed_ids, retry_failures
from .safety.standing import Standing, seconds_left, standing
from .sending.dispatcher import SENDING, send
from .sending.keeping import unrestorable
from .sending.pacing import Sends, sends

__all__ = [
    "AWAITING",
    "CANCELLABLE",
    "INFERRED_MESSAGES",
    "MAX_IDS",
    "MAX_REASON",
    "MAX_TICKET",
    "PAUSABLE",
    "SELECTION_KINDS",
    "SENDING",
    "WAITING",
    "ApprovalError",
    "CancelReport",
    "ControlError",
    "DeletionInputError",
    "DeletionOptions",
    "IdempotencyKeyError",
    "Requester",
    "RestoreError",
    "Review",
    "Sends",
    "Standing",
    "Work",
    "approval_event",
    "approve",
    "cancel",
    "card_items",
    "clean_ids",
    "clean_key",
    "deletions_before",
    "deletions_marker",
    "expire_due",
    "expires_at",
    "failed_id_text",
    "failed_ids",
    "find_item",
    "finish_operation",
    "get_deletion",
    "get_selection",
    "id_problem",
    "ids_from_file",
    "ids_from_text",
    "item_summary",
    "items_after",
    "items_of",
    "latest_items",
    "once",
    "operation_lost",
    "operation_updated",
    "outcome_counts",
    "outcome_counts_of",
    "pause",
    "pending_work",
    "preview",
    "prune_keys",
    "prune_snapshots",
    "recent_deletions",
    "reconcile",
    "record_ended",
    "reject",
    "report_chunks",
    "request_deletion",
    "request_selected",
    "resolve",
    "restorable",
    "restore",
    "restore_problem",
    "resume",
    "retry_failures",
    "review_ids",
    "seconds_left",
    "send",
    "sends",
    "settle_deletion",
    "settle_lost",
    "settle_winding_down",
    "snapshots_of",
    "split_pasted",
    "standing",
    "start_query",
    "stop_reach",
    "store_list",
    "undo",
    "unresolved",
    "unrestorable",
    "waiting",
    "wants_wait",
]
