"""Polling one operation: fetch `GET /ops/{op_id}`, store it, or back off on errors."""

from __future__ import annotations

from datetime import datetime, timedelta

from .. import audit
from ..config import settings
from ..deletions import operation_lost, operation_updated
from ..extensions import db
from ..models import Operation, utcnow
from ..operations import backoff_seconds, derive_state, poll_interval, record_snapshot
from ..wesog import OperationSnapshot, WesogClient, WesogError, WesogNotFound, WesogRateLimited

NOT_FOUND = "the Wesog API answers that it does not know this operation (not found upstream)"
LOST = "the Wesog API has answered 404 (not found) for {seconds:.0f} s; it is no longer asked"
MAX_ERROR_LENGTH = 500


def fetch(client: WesogClient, op_id: int) -> OperationSnapshot | WesogError:
    """The operation's snapshot, or the typed error upstream answered (no database involved)."""
    try:
        return client.get_operation(op_id)
    except WesogError as exc:
        return exc


def store(op_id: int, result: OperationSnapshot | WesogError) -> None:
    """Write one poll's result and schedule the next poll (commits)."""
    row = db.session.get(Operation, op_id)
    if row is None or row.is_finished:
        db.session.rollback()
        return
    if isinstance(result, WesogError):
        note_failure(row, result)
        if row.state == "lost":
            audit.record(
                "operation.lost",
                actor="system",
                op_id=row.upstream_id,
                outcome="lost",
                deletion_id=row.deletion_id,
                details={"message": row.last_poll_error},
            )
            operation_lost(row)
    else:
        errors_before = len(row.errors or [])
        # Another incarnation of the id gets its own row; nobody we know owns it yet.
        row = record_snapshot(result, origin="imported")
        operation_updated(row, errors_before=errors_before)
    db.session.commit()


def note_failure(row: Operation, error: WesogError) -> None:
    """Keep the error's message (never the key), count it and back off (caller commits)."""
    now = utcnow()
    row.poll_failures += 1
    row.last_polled_at = now
    if isinstance(error, WesogNotFound):
        note_not_found(row, now)
        return
    delay = backoff_seconds(row.poll_failures, poll_interval(row))
    if isinstance(error, WesogRateLimited) and error.retry_after:
        delay = max(delay, error.retry_after)
    row.last_poll_error = error.message[:MAX_ERROR_LENGTH]
    row.next_poll_at = now + timedelta(seconds=delay)
    row.state = derive_state(row, now)


def note_not_found(row: Operation, now: datetime) -> None:
    """The API answered 404: "missing" (asked again, backing off) until WESOG_LOST_AFTER
    seconds of nothing but 404s make it "lost" (never asked again). Caller commits."""
    row.missing_since = row.missing_since or now  # the console's clock: no step makes it lost
    missing_for = (now - row.missing_since).total_seconds()
    lost_after = settings().lost_after
    if missing_for >= lost_after:
        row.state, row.next_poll_at = "lost", None
        row.last_poll_error = LOST.format(seconds=missing_for)
        return
    row.state, row.last_poll_error = "missing", NOT_FOUND
    delay = backoff_seconds(row.poll_failures, poll_interval(row))
    row.next_poll_at = now + timedelta(seconds=min(delay, max(0.0, lost_after - missing_for)))
