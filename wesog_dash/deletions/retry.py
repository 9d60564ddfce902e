"""Retrying the failures of a deletion: a new request of exactly its failed ids, same options,
linked both ways (`retry_of_id`; the parent's `retries`) and audited on both.
"""

from __future__ import annotations

from .. import audit
from ..extensions import db
from ..models import DeletionRequest
from .outbox import MAX_REASON, DeletionInputError, request_deletion
from .queries import get_deletion

RETRYABLE = ("failed",)  # failed upstream, refused (rejected) or reconciled as not carried out


def failed_ids(deletion: DeletionRequest) -> list[str]:
    """The ids of the request whose deletion failed, in their order."""
    return [item.image_id for item in deletion.items if item.outcome in RETRYABLE]


def retry_failures(
    deletion_id: int,
    *,
    actor: str,
    user_id: int | None,
    remote_addr: str | None,
    send_after: float = 0.0,
    only: str | None = None,
    send_inline: bool = True,
) -> DeletionRequest:
    """Create (and send, or schedule) the retry of a request's failed ids; the new request.

    `only` retries just that one failed id (the Retry of an image card); `send_inline` as for
    `request_deletion` (False: the CLI, when the API is another process's embedded sandbox).
    """
    parent = get_deletion(deletion_id)
    if parent is None:
        raise DeletionInputError(f"There is no deletion request #{deletion_id}.")
    ids = [i for i in failed_ids(parent) if only is None or i == only]
    if not ids:
        raise DeletionInputError(f"Deletion #{deletion_id} has no failed image to retry.")
    prefix = f"Retry of #{parent.id}: "
    reason = prefix + parent.reason[: MAX_REASON - len(prefix)]
    parent_id, ticket = parent.id, parent.ticket
    stop_ratio, stop_min_items = parent.stop_ratio, parent.stop_min_items
    child = request_deletion(
        ids, reason, wait=parent.do_wait, urgent=parent.do_urgent, strict=parent.do_strict,
        restorable_only=parent.restorable_only,
        ticket=ticket, selection_kind="list" if len(ids) > 1 else "single",
        actor=actor, user_id=user_id, remote_addr=remote_addr, send_after=send_after,
        stop_ratio=stop_ratio, stop_min_items=stop_min_items, retry_of_id=parent_id,
        send_inline=send_inline,
    )  # fmt: skip
    audit.record(
        "deletion.retried", actor=actor, deletion_id=parent_id, remote_addr=remote_addr,
        details={"retry_id": child.id, "items": len(ids)},
    )  # fmt: skip
    db.session.commit()
    return child
