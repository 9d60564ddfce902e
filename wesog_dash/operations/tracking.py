"""Adding an operation created elsewhere by its id; the poller fetches it."""

from __future__ import annotations

import re

from .. import audit, signals
from ..extensions import db
from ..models import Operation, utcnow

MAX_OP_ID = 2**63 - 1  # the column is a signed 64-bit integer
DIGITS = re.compile(r"[0-9]{1,19}")


class TrackError(ValueError):
    """An operation id we cannot track; `message` is safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_op_id(value: object) -> int:
    """An operation id as a positive integer, from an int or its decimal text."""
    if isinstance(value, bool):
        raise TrackError("An operation id is a positive whole number")
    text = str(value).strip() if not isinstance(value, int) else str(value)
    if not DIGITS.fullmatch(text) or not 0 < int(text) <= MAX_OP_ID:
        raise TrackError("An operation id is a positive whole number")
    return int(text)


def track(op_id: int | str, *, actor: str) -> Operation:
    """Start watching an operation created elsewhere; only the poller will fetch it."""
    number = parse_op_id(op_id)
    existing = db.session.get(Operation, number)
    if existing is not None:
        return existing
    now = utcnow()
    row = Operation(
        op_id=number,
        origin="tracked",
        state="unknown",
        first_seen_at=now,
        next_poll_at=now,
        poll_failures=0,
        outcomes_applied=False,
        errors=[],
    )
    db.session.add(row)
    audit.record("operation.tracked", actor=actor, op_id=number)
    db.session.commit()
    signals.wake()
    return row


def untrack(op_id: int | str, *, actor: str) -> int:
    """Stop watching an operation tracked or imported by hand: its row and samples go, the
    audit log keeps "operation.untracked". One this console started (a deletion's) stays."""
    number = parse_op_id(op_id)
    row = db.session.get(Operation, number)
    if row is None:
        raise TrackError(f"Operation #{number} is not tracked")
    if row.deletion_id is not None or row.origin == "dashboard":
        raise TrackError(
            f"Operation #{number} belongs to a deletion started here; it stays on record"
        )
    audit.record("operation.untracked", actor=actor, op_id=number, details={"state": row.state})
    db.session.delete(row)
    db.session.commit()
    return number
