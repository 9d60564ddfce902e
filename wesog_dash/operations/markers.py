"""Change markers: a short value that changes whenever any operation a list shows could have
changed, so that a polled list answers "nothing changed" (204) without rendering anything.

Only unfinished rows can change (finished ones are final), so the marker aggregates those,
through the index on `state` (named states: `NOT IN` would scan the table), plus the newest
op id and the newest `first_seen_at` (indexed) for rows that appear. One round trip, one
plain SQL statement, and no step that grows with the finished rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text

from ..extensions import db
from ..models import FINAL_OP_STATES, OP_STATES, Operation


def _unfinished_states_sql() -> str:
    unfinished = [state for state in OP_STATES if state not in FINAL_OP_STATES]
    return ", ".join(f"'{state}'" for state in unfinished)  # our constants, not input


# Plain SQL, built once: this runs on every poll of every open list, so it skips building
# and compiling an ORM statement each time (a third of the cost of a "nothing changed").
MARKER_SQL = text(
    f"""
    SELECT (SELECT max(first_seen_at) FROM operations),
           (SELECT max(op_id) FROM operations),
           count(*), max(last_change_at), max(last_polled_at), sum(poll_failures),
           sum(CASE WHEN state = 'stale' THEN 1 ELSE 0 END)
    FROM operations WHERE state IN ({_unfinished_states_sql()})
    """
)


def operations_marker() -> str:
    """Changes when an operation appears, progresses, changes state, fails a poll or ends."""
    row = db.session.execute(MARKER_SQL).one()
    return ":".join(str(value) for value in row)


def ended_since(moment: datetime, limit: int = 5) -> list[Operation]:
    """Operations whose end the poller recorded after `moment` (newest first): for toasts."""
    query = (
        select(Operation)
        .where(Operation.state.in_(FINAL_OP_STATES), Operation.last_change_at > moment)
        .order_by(Operation.last_change_at.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
