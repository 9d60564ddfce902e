"""Pacing the chunks of a deletion: the undo window before the first one, and before each
next one a check that the request is still to be sent (not paused, cancelled or stopped on
failures). How many operations may be in flight at once is the dispatcher's room in flight
(`flight`, WESOG_MAX_INFLIGHT_OPS).
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import update

from ..extensions import db
from ..models import DeletionRequest, utcnow
from .stopping import stop, stop_reason

CHUNK_SIZE = 1000  # default ids per DELETE /imgs call, one operation each (WESOG_CHUNK_SIZE)


def chunk_size() -> int:
    """Ids per DELETE /imgs call."""
    return max(1, int(current_app.config.get("WESOG_CHUNK_SIZE") or CHUNK_SIZE))


def release_scheduled(deletion_id: int) -> bool:
    """The undo window is over: `scheduled` becomes `pending`, atomically (commits).

    False when it was undone (or released) meanwhile: Undo and the sender race on this
    one row, and exactly one of them wins.
    """
    now = utcnow()
    result = db.session.execute(
        update(DeletionRequest)
        .where(
            DeletionRequest.id == deletion_id,
            DeletionRequest.state == "scheduled",
            DeletionRequest.send_at <= now,
        )
        .values(state="pending", next_attempt_at=None)
    )
    db.session.commit()
    return bool(getattr(result, "rowcount", 0) == 1)


def ready_for_chunk(deletion_id: int, sending: str) -> bool:
    """May the claimed request send its next chunk now? Commits; releases the claim if not."""
    deletion = db.session.get(DeletionRequest, deletion_id)
    if deletion is None:
        return False
    if deletion.state != "pending":  # paused, cancelled or stopped by someone meanwhile
        if deletion.message == sending:
            deletion.message = None
        db.session.commit()
        return False
    reason = stop_reason(deletion)
    if reason is not None:
        stop(deletion, reason)
        db.session.commit()
        return False
    db.session.commit()
    return True
