"""Pacing the chunks of a deletion: the undo window before the first one, and before each
next one a check that the request is still to be sent (not paused, cancelled or stopped on
failures) and that not too many of its operations are still running upstream.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import DeletionRequest, Operation, utcnow
from .stopping import stop, stop_reason

CHUNK_SIZE = 1000  # default ids per DELETE /imgs call, one operation each (WESOG_CHUNK_SIZE)
WAITING = "waiting for its operations in flight to finish before sending more"


def chunk_size() -> int:
    """Ids per DELETE /imgs call."""
    return max(1, int(current_app.config.get("WESOG_CHUNK_SIZE") or CHUNK_SIZE))


def in_flight_cap() -> int:
    """How many unfinished operations a deletion may have before it waits (0: no limit)."""
    return max(0, int(current_app.config.get("WESOG_CHUNKS_IN_FLIGHT") or 0))


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


def unfinished_operations(deletion_id: int) -> int:
    """How many of the request's operations upstream has not finished."""
    query = select(func.count()).where(
        Operation.deletion_id == deletion_id, Operation.is_finished.is_(False)
    )
    return int(db.session.scalar(query) or 0)


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
    cap = in_flight_cap()
    if cap and unfinished_operations(deletion_id) >= cap:
        wait = float(current_app.config["WESOG_POLL_INTERVAL"])
        deletion.message, deletion.next_attempt_at = WAITING, utcnow() + timedelta(seconds=wait)
        db.session.commit()
        return False
    db.session.commit()
    return True
