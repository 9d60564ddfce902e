"""Reading deletion requests and their items from the database."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import DeletionItem, DeletionRequest, utcnow


def get_deletion(deletion_id: int) -> DeletionRequest | None:
    """One deletion request by id."""
    return db.session.get(DeletionRequest, deletion_id)


def recent_deletions(limit: int = 8) -> list[DeletionRequest]:
    """The newest deletion requests, whatever became of them (refused ones included)."""
    query = select(DeletionRequest).order_by(DeletionRequest.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def items_of(deletion_id: int, limit: int | None = None) -> list[DeletionItem]:
    """The items of a deletion request (the first `limit` of them), in the order given."""
    query = select(DeletionItem).where(DeletionItem.deletion_id == deletion_id)
    return list(db.session.scalars(query.order_by(DeletionItem.position).limit(limit)))


def outcome_counts(deletion_id: int) -> dict[str, int]:
    """How many items of a deletion request have each outcome (counted by the database)."""
    query = (
        select(DeletionItem.outcome, func.count())
        .where(DeletionItem.deletion_id == deletion_id)
        .group_by(DeletionItem.outcome)
    )
    return {outcome: count for outcome, count in db.session.execute(query)}


# A bulk deletion's message while its next chunks wait for operations of ours to end.
WAITING = "waiting for room: the console keeps a few operations in flight at once"


class Work(NamedTuple):
    """Deletion requests the dispatcher should act on now."""

    pending: list[int]  # due to be sent (or found abandoned mid-send)
    unknown: list[int]  # due to be reconciled


def pending_work(limit: int = 100) -> Work:
    """Ids of due pending requests and of due unknown requests, oldest first."""
    return Work(pending=_due_ids("pending", limit), unknown=_due_ids("unknown", limit))


def _due_ids(state: str, limit: int) -> list[int]:
    now = utcnow()
    due = or_(DeletionRequest.next_attempt_at.is_(None), DeletionRequest.next_attempt_at <= now)
    query = select(DeletionRequest.id).where(DeletionRequest.state == state, due)
    return list(db.session.scalars(query.order_by(DeletionRequest.id).limit(limit)))


def wants_wait(deletion_id: int) -> bool:
    """True when the request asked the API to run its operation before answering (wait=true)."""
    deletion = db.session.get(DeletionRequest, deletion_id)
    return bool(deletion and deletion.do_wait)


def item_summary(deletion_id: int, limit: int) -> dict[str, object]:
    """What a live deletion view draws: the first `limit` items, the total and outcome counts.

    Counted by the database: a bulk request's page is polled every second and may hold
    100,000 items, of which only the first `limit` are drawn.
    """
    counts = outcome_counts(deletion_id)
    return {
        "items": items_of(deletion_id, limit=limit),
        "item_total": sum(counts.values()),
        "outcome_counts": counts,
    }


def waiting_for_room() -> bool:
    """True while a bulk request waits for one of our operations to end before its next chunk."""
    query = select(DeletionRequest.id).where(
        DeletionRequest.state == "pending", DeletionRequest.message == WAITING
    )
    return db.session.scalar(query.limit(1)) is not None
