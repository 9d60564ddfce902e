"""A change marker for lists of deletion requests (the overview): it changes when a request
is added or moves from one state to another, and costs one indexed count per state."""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import FINAL_DELETION_STATES, DeletionRequest


def deletions_marker() -> str:
    """Changes when a deletion request appears, is retried, or changes state."""
    newest = db.session.scalar(select(func.max(DeletionRequest.id)))
    by_state = db.session.execute(
        select(DeletionRequest.state, func.count(), func.sum(DeletionRequest.attempts))
        .where(DeletionRequest.state.not_in(FINAL_DELETION_STATES))
        .group_by(DeletionRequest.state)
        .order_by(DeletionRequest.state)
    ).all()
    return f"{newest}:" + ",".join(f"{s}={n}/{a}" for s, n, a in by_state)
