"""Who is looking: polled pages mark the operations they show, so the poller refreshes those
first. The mark is coarse on purpose (a write at most every few seconds per operation and
process), so that fifty open tabs cost next to nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from sqlalchemy import update

from ..extensions import db
from ..models import Operation, utcnow

MARK_EVERY = 5.0  # seconds between two writes of one operation's mark by one process
_last_marked: dict[int, float] = {}
_lock = threading.Lock()


def mark_viewed(op_ids: Iterable[int]) -> None:
    """Record that a page shows these operations now (commits when it writes)."""
    now = time.monotonic()
    with _lock:
        fresh = [i for i in op_ids if now - _last_marked.get(i, -MARK_EVERY) >= MARK_EVERY]
        for op_id in fresh:
            _last_marked[op_id] = now
        if len(_last_marked) > 10_000:
            _last_marked.clear()  # bounded memory: forgetting only costs one more write
    if not fresh:
        return
    db.session.execute(
        update(Operation)
        .where(Operation.op_id.in_(fresh), Operation.is_finished.is_(False))
        .values(last_viewed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
