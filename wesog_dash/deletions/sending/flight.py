"""Room in flight: a bulk deletion keeps at most WESOG_MAX_INFLIGHT_OPS operations of its own
unfinished upstream, so that one huge deletion does not starve the tenant's other work. The room
is each deletion's own: a room shared by all of them let one slow queue upstream hold back every
small deletion behind four others (thirty people deleting two images each waited in line).

When the room is full, the dispatcher may take one look at the newest page of `GET /ops`
(at most every `PEEK_EVERY` seconds, within the request budget) before handing its claim
back: with a fast API, the operations it sent a moment ago have often ended already.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import func, select, update

from ...config import settings
from ...extensions import db
from ...models import DeletionRequest, Operation, utcnow
from ...operations import record_snapshot
from ...wesog import WesogClient, WesogError
from ..outcomes.outcomes import operation_updated
from ..queries import WAITING

PEEK_EVERY = 0.05  # seconds between two looks of the dispatcher at the list
_last_peek = 0.0
_peek_lock = threading.Lock()


def _in_flight() -> list[int]:
    query = select(Operation.op_id).where(
        Operation.deletion_id.is_not(None),
        Operation.is_finished.is_(False),
        Operation.state != "unknown",
    )
    return list(db.session.scalars(query))


def room_in_flight(deletion_id: int) -> int:
    """How many more operations of this deletion may run upstream now (WESOG_MAX_INFLIGHT_OPS)."""
    running = db.session.scalar(
        select(func.count()).where(
            Operation.deletion_id == deletion_id,
            Operation.is_finished.is_(False),
            Operation.state != "unknown",
        )
    )
    return settings().max_inflight_ops - (running or 0)


def peek(client: WesogClient) -> bool:
    """Refresh our operations in flight from the newest page of the list; True if it looked.

    Commits. An upstream error is not ours to report here: the poller reads on as usual.
    """
    global _last_peek
    with _peek_lock:
        if time.monotonic() - _last_peek < PEEK_EVERY:
            return False
        _last_peek = time.monotonic()
    ours = set(_in_flight())
    db.session.commit()
    if not ours:
        return False
    try:
        listed = client.list_operations(page=1, limit=min(1000, max(50, 4 * len(ours))))
    except WesogError:
        return False
    for op in listed:
        row = db.session.get(Operation, op.op_id) if op.op_id in ours else None
        if row is not None and not row.is_finished:
            errors_before = len(row.errors or [])
            record_snapshot(op)
            operation_updated(row, errors_before=errors_before)
    db.session.commit()
    return True


def wait_for_room(deletion: DeletionRequest) -> None:
    """Hand the claim back until an operation of ours ends (caller commits); only while it is
    still pending (the look at the list may have stopped it on failures meanwhile)."""
    # A fallback: the poller makes it due as soon as one of our operations ends.
    interval = settings().poll_interval
    db.session.execute(
        update(DeletionRequest)
        .where(DeletionRequest.id == deletion.id, DeletionRequest.state == "pending")
        .values(message=WAITING, next_attempt_at=utcnow() + timedelta(seconds=interval))
        .execution_options(synchronize_session=False)
    )
    db.session.expire(deletion)
