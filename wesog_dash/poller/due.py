"""Which unfinished operations the next refresh must read, and in what order."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import Operation, utcnow
from .discovery import WATCHED_FOR

MAX_DUE = 5000  # due operations considered in one cycle
# Operations still worth asking about: "lost" ones never are, retired incarnations neither.
UNFINISHED = (
    Operation.is_finished.is_(False),
    Operation.state != "lost",
    Operation.op_id > 0,
)


def due_operations(limit: int = MAX_DUE) -> list[int]:
    """Unfinished operations due now: watched ones first, then the longest unrefreshed."""
    now = utcnow()
    watched = func.coalesce(Operation.last_viewed_at >= now - WATCHED_FOR, False)
    query = (
        select(Operation.op_id)
        .where(
            *UNFINISHED,
            or_(Operation.next_poll_at.is_(None), Operation.next_poll_at <= now),
        )
        .order_by(watched.desc(), Operation.last_polled_at.asc().nulls_first())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def ours_due(limit: int = 100) -> list[int]:
    """Due operations that our deletions sent (young ones are due soon after each read)."""
    now = utcnow()
    query = select(Operation.op_id).where(
        *UNFINISHED,
        Operation.deletion_id.is_not(None),
        or_(Operation.next_poll_at.is_(None), Operation.next_poll_at <= now),
    )
    return list(db.session.scalars(query.order_by(Operation.op_id).limit(limit)))
