"""A change marker for lists of deletion requests (the overview): it changes when a request
is added, retried, or moves from one state to another. One query, through the state index."""

from __future__ import annotations

from sqlalchemy import text

from ..extensions import db
from ..models import DELETION_STATES, FINAL_DELETION_STATES

# Named states, so that the state index is used (`NOT IN` would scan every request).
UNFINISHED_SQL = ", ".join(
    f"'{state}'" for state in DELETION_STATES if state not in FINAL_DELETION_STATES
)  # our constants
# Plain SQL, built once: it runs on every poll of the overview.
MARKER_SQL = text(
    f"""
    SELECT (SELECT max(id) FROM deletion_requests),
           count(*), sum(attempts), max(submitted_at)
    FROM deletion_requests WHERE state IN ({UNFINISHED_SQL})
    """
)


def deletions_marker() -> str:
    """Changes when a deletion request appears, is retried, or changes state."""
    row = db.session.execute(MARKER_SQL).one()
    return ":".join(str(value) for value in row)
