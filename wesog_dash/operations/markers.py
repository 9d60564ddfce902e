"""Change markers: a short value that changes whenever any operation a list shows could have
changed, so that a polled list answers "nothing changed" (204) without rendering anything.

Only unfinished rows can change (finished ones are final), so the marker aggregates those,
through the index on `state`, plus the newest op id and the row count for rows that appear.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ..extensions import db
from ..models import FINAL_OP_STATES, Operation


def operations_marker() -> str:
    """Changes when an operation appears, progresses, changes state, fails a poll or ends."""
    everything = select(func.count(), func.max(Operation.op_id))
    total, newest = db.session.execute(everything).one()
    unfinished = select(
        func.count(),
        func.max(Operation.last_change_at),
        func.max(Operation.last_polled_at),
        func.sum(Operation.poll_failures),
    ).where(Operation.state.not_in(FINAL_OP_STATES))
    count, changed, polled, failures = db.session.execute(unfinished).one()
    stale = db.session.scalar(select(func.count()).where(Operation.state == "stale"))
    return f"{total}:{newest}:{count}:{changed}:{polled}:{failures}:{stale}"


def ended_since(moment: datetime, limit: int = 5) -> list[Operation]:
    """Operations whose end the poller recorded after `moment` (newest first): for toasts."""
    query = (
        select(Operation)
        .where(Operation.state.in_(FINAL_OP_STATES), Operation.last_change_at > moment)
        .order_by(Operation.last_change_at.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
