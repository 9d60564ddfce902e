"""Writing to the hash-chained audit log, in the caller's transaction."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import has_request_context, request
from sqlalchemy import select

from .extensions import db
from .models import AuditEvent, utcnow

GENESIS_HASH = "0" * 64


def canonical_json(event: AuditEvent) -> str:
    """The exact text that an event's hash covers: every field but `hash`, sorted, compact."""
    fields = {
        "id": event.id,
        "at": event.at.isoformat(timespec="microseconds") if event.at else None,
        "actor": event.actor,
        "remote_addr": event.remote_addr,
        "action": event.action,
        "image_id": event.image_id,
        "op_id": event.op_id,
        "deletion_id": event.deletion_id,
        "outcome": event.outcome,
        "reason": event.reason,
        "details": event.details or {},
        "prev_hash": event.prev_hash,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(event: AuditEvent) -> str:
    """SHA-256 of the canonical serialisation of the event."""
    return hashlib.sha256(canonical_json(event).encode("utf-8")).hexdigest()


def current_actor() -> str:
    """Who is acting: the logged-in user, else `system` (CLI code passes its own actor)."""
    if has_request_context():
        from flask_login import current_user

        if getattr(current_user, "is_authenticated", False):
            return str(current_user.username)
        return "anonymous"
    return "system"


def record(
    action: str,
    *,
    actor: str | None = None,
    image_id: str | None = None,
    op_id: int | None = None,
    deletion_id: int | None = None,
    outcome: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the current transaction (the caller commits).

    The row is inserted first and chained second: the INSERT takes SQLite's write lock, so
    the previous event we then read cannot change under us, even across processes.
    """
    if remote_addr is None and has_request_context():
        remote_addr = request.remote_addr
    event = AuditEvent(
        at=utcnow(),
        actor=actor or current_actor(),
        remote_addr=remote_addr,
        action=action,
        image_id=image_id,
        op_id=op_id,
        deletion_id=deletion_id,
        outcome=outcome,
        reason=reason,
        details=details or {},
        prev_hash="",
        hash="",
    )
    db.session.add(event)
    db.session.flush()
    previous = db.session.scalar(
        select(AuditEvent.hash).where(AuditEvent.id < event.id).order_by(AuditEvent.id.desc())
    )
    event.prev_hash = previous or GENESIS_HASH
    event.hash = event_hash(event)
    db.session.flush()
    return event
