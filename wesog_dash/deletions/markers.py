"""A change marker for lists of deletion requests (the overview): it changes when a request
is added, retried, or moves from one state to another (paused included). One query, through
the state index."""

from __future__ import annotations

from sqlalchemy import text

from ..extensions import db
from ..models import DELETION_STATES, FINAL_DELETION_STATES

UNFINISHED = [state for state in DELETION_STATES if state not in FINAL_DELETION_STATES]
# Named states, so that the state index is used (`NOT IN` would scan every request); a count
# per state, so that a move between two unfinished states (pending -> paused) changes it too.
UNFINISHED_SQL = ", ".join(f"'{state}'" for state in UNFINISHED)  # our constants
COUNTS_SQL = ", ".join(
    f"sum(CASE WHEN state = '{state}' THEN 1 ELSE 0 END)" for state in UNFINISHED
)
# Plain SQL, built once: it runs on every poll of the overview.
MARKER_SQL = text(
    f"""
    SELECT (SELECT max(id) FROM deletion_requests),
           {COUNTS_SQL}, sum(attempts), max(submitted_at)
    FROM deletion_requests WHERE state IN ({UNFINISHED_SQL})
    """
)


def deletions_marker() -> str:
    """Changes when a deletion request appears, is retried, or changes state."""
    row = db.session.execute(MARKER_SQL).one()
    return ":".join(str(value) for value in row)
