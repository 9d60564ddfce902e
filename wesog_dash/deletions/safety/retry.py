"""Retrying the failures of a deletion: a new request of exactly its failed ids, same options,
linked both ways (`retry_of_id`; the parent's `retries`) and audited on both.
"""

from __future__ import annotations

from sqlalchemy import select, update

from ... import audit
from ...extensions import db
from ...models import DeletionItem, DeletionRequest
from ..intake.outbox import (
    MAX_REASON,
    DeletionInputError,
    DeletionOptions,
    Requester,
    request_deletion,
)
from ..items import batches
from ..queries import get_deletion

RETRYABLE = ("failed",)  # failed upstream, refused (rejected) or reconciled as not carried out


def failed_ids(deletion: DeletionRequest) -> list[str]:
    """The ids of the request whose deletion failed, in their order."""
    return [item.image_id for item in deletion.items if item.outcome in RETRYABLE]


def _lock(deletion_id: int) -> None:
    """Hold the parent's row until this transaction ends (a write lock on both engines)."""
    db.session.commit()
    db.session.execute(
        update(DeletionRequest)
        .where(DeletionRequest.id == deletion_id)
        .values(attempts=DeletionRequest.attempts)
        .execution_options(synchronize_session=False)
    )


def _retried(deletion_id: int, image_ids: list[str]) -> dict[str, int]:
    """Of these ids, those a retry of the deletion carries and did not fail: id -> retry id."""
    found: dict[str, int] = {}
    for batch in batches(image_ids):
        query = (
            select(DeletionItem.image_id, DeletionItem.deletion_id)
            .join(DeletionRequest, DeletionRequest.id == DeletionItem.deletion_id)
            .where(
                DeletionRequest.retry_of_id == deletion_id,
                DeletionItem.image_id.in_(batch),
                DeletionItem.outcome.not_in(RETRYABLE),
            )
        )
        found.update({image_id: child for image_id, child in db.session.execute(query)})
    return found


def _to_retry(parent: DeletionRequest, only: str | None) -> list[str] | DeletionRequest:
    """The failed ids no retry carries yet; or the live retry that carries them all."""
    failed = [i for i in failed_ids(parent) if only is None or i == only]
    if not failed:
        db.session.rollback()
        raise DeletionInputError(f"Deletion #{parent.id} has no failed image to retry.")
    taken = _retried(parent.id, failed)
    ids = [image_id for image_id in failed if image_id not in taken]
    if ids:
        return ids
    db.session.rollback()
    newest = max(taken.values())
    child = get_deletion(newest)
    if child is not None and child.is_live:
        return child
    raise DeletionInputError(f"Deletion #{parent.id} was retried already: #{newest}.")


def retry_failures(
    deletion_id: int,
    who: Requester,
    *,
    undo_seconds: float = 0.0,
    only: str | None = None,
    send_inline: bool = True,
) -> DeletionRequest:
    """Create (and send, or schedule) the retry of a request's failed ids; the new request.

    `only` retries just that one failed id (the Retry of an image card); `send_inline` as for
    `request_deletion` (False: the CLI, when the API is another process's embedded sandbox).
    """
    if get_deletion(deletion_id) is None:
        raise DeletionInputError(f"There is no deletion request #{deletion_id}.")
    _lock(deletion_id)  # parallel retries of one deletion take turns, until the child is written
    parent = get_deletion(deletion_id)
    assert parent is not None
    ids = _to_retry(parent, only)
    if isinstance(ids, DeletionRequest):
        return ids  # a retry of these ids is under way: the same answer, nothing sent
    prefix = f"Retry of #{parent.id}: "
    reason = prefix + parent.reason[: MAX_REASON - len(prefix)]
    parent_id = parent.id
    options = DeletionOptions.of(parent, reason, undo_seconds)
    kind = "list" if len(ids) > 1 else "single"
    child = request_deletion(ids, options, who, kind=kind, send_inline=send_inline)
    audit.record(
        "deletion.retried",
        actor=who.actor,
        deletion_id=parent_id,
        remote_addr=who.remote_addr,
        details={"retry_id": child.id, "items": len(ids)},
    )
    db.session.commit()
    return child
