"""Polling one operation: fetch `GET /ops/{op_id}`, store it, or back off on errors."""

from __future__ import annotations

from datetime import timedelta

from ..deletions import operation_updated
from ..extensions import db
from ..models import Operation, utcnow
from ..operations import backoff_seconds, derive_state, poll_interval, record_snapshot
from ..operations.snapshots import setting
from ..wesog import Operation as Snapshot
from ..wesog import WesogClient, WesogError, WesogNotFound, WesogRateLimited

NOT_FOUND = "operation not found upstream"
MAX_ERROR_LENGTH = 500


def fetch(client: WesogClient, op_id: int) -> Snapshot | WesogError:
    """The operation's snapshot, or the typed error upstream answered (no database involved)."""
    try:
        return client.get_operation(op_id)
    except WesogError as exc:
        return exc


def store(op_id: int, result: Snapshot | WesogError) -> None:
    """Write one poll's result and schedule the next poll (commits)."""
    row = db.session.get(Operation, op_id)
    if row is None or row.is_finished:
        db.session.rollback()
        return
    if isinstance(result, WesogError):
        note_failure(row, result)
    else:
        errors_before = len(row.errors or [])
        record_snapshot(result)
        operation_updated(row, errors_before=errors_before)
    db.session.commit()


def note_failure(row: Operation, error: WesogError) -> None:
    """Keep the error's message (never the key), count it and back off (caller commits)."""
    now = utcnow()
    row.poll_failures += 1
    row.last_polled_at = now
    if isinstance(error, WesogNotFound):
        # Unknown upstream (expired, other tenant, mistyped when tracked): look rarely.
        row.state, row.last_poll_error = "unknown", NOT_FOUND
        row.next_poll_at = now + timedelta(seconds=setting("WESOG_POLL_MAX_BACKOFF"))
        return
    delay = backoff_seconds(row.poll_failures, poll_interval(row))
    if isinstance(error, WesogRateLimited) and error.retry_after:
        delay = max(delay, error.retry_after)
    row.last_poll_error = error.message[:MAX_ERROR_LENGTH]
    row.next_poll_at = now + timedelta(seconds=delay)
    row.state = derive_state(row, now)
