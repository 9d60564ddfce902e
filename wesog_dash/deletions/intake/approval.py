"""Four eyes on big deletions: above WESOG_APPROVAL_THRESHOLD images (and every "delete all
matches" of a person) a new request waits in `awaiting_approval`, with nothing sent, until an
operator or admin other than its requester approves it. It may be rejected, and it expires
after WESOG_APPROVAL_HOURS. Approve, reject and expire are each one conditional UPDATE from
`awaiting_approval`, so of two people pressing at once (or the expiry) only one wins.

The approver is shown what the requester confirmed (count, hash of the id list, the first
ids, reason) and approves that hash: a request whose list differs is not approved.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from ... import audit, signals
from ...config import settings
from ...extensions import db
from ...models import AuditEvent, DeletionRequest, utcnow
from .. import lifecycle
from ..lifecycle import PERSON, POLLER
from ..outcomes.stopping import drop_unsent
from .awaiting import AWAITING
from .outbox import DeletionInputError, clean_reason


class ApprovalError(ValueError):
    """A decision we refuse; `message` is safe to show, `reason` names it: not-found,
    own-request, not-awaiting, invalid."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message, self.reason = message, reason


def expires_at(deletion: DeletionRequest) -> datetime:
    """When a request waiting for approval expires."""
    hours = settings().approval_hours
    return deletion.created_at + timedelta(hours=hours)


def waiting(limit: int = 20) -> list[DeletionRequest]:
    """Requests waiting for approval, oldest first (the overview's list)."""
    query = select(DeletionRequest).where(DeletionRequest.state == AWAITING)
    return list(db.session.scalars(query.order_by(DeletionRequest.id).limit(limit)))


def approval_event(deletion_id: int) -> AuditEvent | None:
    """The `deletion.approved` event of a request (who, when, why), if it was approved."""
    query = select(AuditEvent).where(
        AuditEvent.deletion_id == deletion_id, AuditEvent.action == "deletion.approved"
    )
    return db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(1)).first()


def _found(deletion_id: int) -> DeletionRequest:
    deletion = db.session.get(DeletionRequest, deletion_id)
    if deletion is None:
        raise ApprovalError(f"There is no deletion request #{deletion_id}.", "not-found")
    return deletion


def _reason(reason: str | None) -> str:
    try:
        return clean_reason(reason)
    except DeletionInputError as exc:
        raise ApprovalError(exc.message, "invalid") from exc


def _not_waiting(deletion_id: int) -> ApprovalError:
    db.session.rollback()
    deletion = _found(deletion_id)
    return ApprovalError(
        f"Deletion #{deletion_id} is not waiting for approval any more ({deletion.state}).",
        "not-awaiting",
    )


def approve(
    deletion_id: int, *, actor: str, reason: str, seen_sha256: str | None = None
) -> DeletionRequest:
    """Send it: approved by someone other than its requester, for the list they saw (commits)."""
    deletion = _found(deletion_id)
    if deletion.state != AWAITING:
        raise _not_waiting(deletion_id)
    if deletion.actor == actor:
        raise ApprovalError(
            "You asked for this deletion: someone else must approve it.", "own-request"
        )
    reason = _reason(reason)
    if seen_sha256 is not None and seen_sha256 != deletion.ids_sha256:
        raise ApprovalError("This is not the list you were shown: review it again.", "not-awaiting")
    # The requester and the list never change: the checks above hold; the state is the race.
    if not lifecycle.move(deletion_id, "approve", PERSON, next_attempt_at=None, message=None):
        raise _not_waiting(deletion_id)
    audit.record(
        "deletion.approved",
        actor=actor,
        deletion_id=deletion_id,
        reason=reason,
        outcome="pending",
        details=_shown(deletion),
    )
    db.session.commit()
    signals.wake()
    return _found(deletion_id)


def reject(deletion_id: int, *, actor: str, reason: str) -> DeletionRequest:
    """End it without sending anything (the requester may withdraw it too; commits)."""
    _found(deletion_id)
    reason = _reason(reason)
    if not _end(deletion_id, "reject_request", PERSON, f"rejected by {actor}: {reason}"):
        raise _not_waiting(deletion_id)
    deletion = _found(deletion_id)
    dropped = drop_unsent(deletion, f"not sent: rejected by {actor}")
    audit.record(
        "deletion.rejected",
        actor=actor,
        deletion_id=deletion_id,
        reason=reason,
        outcome="cancelled",
        details={**_shown(deletion), "decision": "rejected", "dropped": dropped},
    )
    db.session.commit()
    return deletion


def _end(deletion_id: int, transition: str, by: str, message: str) -> bool:
    """awaiting_approval -> cancelled (one conditional UPDATE); True when it moved."""
    return lifecycle.end(deletion_id, transition, by, utcnow(), message=message)


def expire_due(now: datetime | None = None) -> int:
    """End every request not approved within WESOG_APPROVAL_HOURS (the poller); how many."""
    hours = settings().approval_hours
    cutoff = (now or utcnow()) - timedelta(hours=hours)
    query = select(DeletionRequest.id).where(
        DeletionRequest.state == AWAITING, DeletionRequest.created_at <= cutoff
    )
    expired = 0
    for deletion_id in list(db.session.scalars(query.limit(100))):
        if not _end(
            deletion_id, "expire_request", POLLER, f"expired: not approved within {hours:g} h"
        ):
            db.session.rollback()
            continue  # approved or rejected meanwhile
        deletion = _found(deletion_id)
        dropped = drop_unsent(deletion, "not sent: nobody approved it in time")
        audit.record(
            "deletion.expired",
            actor="system",
            deletion_id=deletion_id,
            outcome="cancelled",
            details={**_shown(deletion), "hours": hours, "dropped": dropped},
        )
        db.session.commit()
        expired += 1
    return expired


def _shown(deletion: DeletionRequest) -> dict[str, Any]:
    """What the approver was shown, as the audit event records it."""
    return {
        "requester": deletion.actor,
        "count": deletion.item_count,
        "ids_sha256": deletion.ids_sha256,
    }
