"""Writing to the hash-chained audit log, in the caller's transaction.

The chain (checked by `chain.verify`): events in id order; each event's `prev_hash` is the
`hash` of the event before it (GENESIS_HASH for the first one ever); `hash` is the SHA-256 of
`canonical_json(event)`, which covers the id and `prev_hash`. The single `audit_head` row names
the newest event, so a deleted tail shows too.
"""

from __future__ import annotations

from typing import Any, TypedDict, Unpack

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import insert, update

from ..extensions import db
from ..models import AuditEvent, AuditHead, utcnow
from .hashing import GENESIS_HASH, canonical_json, event_hash
from .head import HEAD_ID, claim_head

__all__ = [
    "GENESIS_HASH",
    "EventFields",
    "canonical_json",
    "current_actor",
    "event_hash",
    "record",
]


def current_actor() -> str:
    """Who is acting: the logged-in user, else `system` (CLI code passes its own actor)."""
    if has_request_context():
        if getattr(current_user, "is_authenticated", False):
            return str(current_user.username)
        return "anonymous"
    return "system"


class EventFields(TypedDict, total=False):
    """What a caller may say about an event besides its action (each optional)."""

    actor: str | None  # default: `current_actor()`
    image_id: str | None
    op_id: int | None
    deletion_id: int | None
    outcome: str | None
    reason: str | None
    details: dict[str, Any] | None
    remote_addr: str | None  # default: the current request's


def record(action: str, **fields: Unpack[EventFields]) -> AuditEvent:
    """Append one event to the chain inside the current transaction (the caller commits).

    The head is claimed first (`claim_head`: a row lock on PostgreSQL, the write lock on
    SQLite) and held until the caller commits, so concurrent writers, threads or processes,
    append one after the other: none can chain to a head another is moving. The id and the
    time are taken under that lock too (`at` never before the head's), so ids follow the
    chain and `at` never decreases along it: the audit queries rely on it to turn a date
    range into an id range.
    """
    values: dict[str, Any] = {**fields}
    if values.get("remote_addr") is None and has_request_context():
        values["remote_addr"] = request.remote_addr
    values["actor"] = values.get("actor") or current_actor()
    values["details"] = values.get("details") or {}
    db.session.flush()  # the caller's pending rows first: the head is the last lock we take
    head = claim_head()
    now = utcnow()
    event = AuditEvent(
        action=action,
        at=max(now, head.at) if head else now,
        # No head means an empty log, or a head that was removed: either way the chain
        # restarts at GENESIS_HASH, which `verify` reports when events precede it.
        prev_hash=head.hash if head else GENESIS_HASH,
        hash="",
        **values,
    )
    db.session.add(event)
    db.session.flush()
    event.hash = event_hash(event)
    _move_head(event, exists=head is not None)
    db.session.flush()
    return event


def _move_head(event: AuditEvent, *, exists: bool) -> None:
    """Point the head row at `event` (Core statements: no stale identity-map copy)."""
    values = {"event_id": event.id, "hash": event.hash, "at": event.at}
    table = AuditHead.__table__
    if exists:
        db.session.execute(update(table).where(table.c.id == HEAD_ID).values(**values))
    else:
        db.session.execute(insert(table).values(id=HEAD_ID, **values))
