"""Queueing alerts: one per event (its unique key), found by a cheap scan of recent changes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, String, and_, cast, exists, literal, or_, select

from .. import audit
from ..config import settings
from ..extensions import db
from ..metrics.periods import epoch_minute
from ..models import Alert, DeletionRequest, Operation, utcnow
from ..models.metrics import metric_minutes

WINDOW = timedelta(minutes=15)  # how far back a scan looks for deletions that ended
DELETION_STATES = ("done_with_errors", "stopped")
PER_SCAN = 50  # operations alerted per scan at most; the next scan takes the rest


def enabled() -> bool:
    """True when WESOG_ALERT_URL is set."""
    return bool(settings().alert_url)


def target_host() -> str | None:
    """Where alerts go, as scheme://host only (webhook paths often hold a secret)."""
    url = settings().alert_url
    if not url:
        return None
    parts = urlsplit(str(url))
    return f"{parts.scheme}://{parts.hostname or '?'}"


def queue(kind: str, key: str, text: str, details: dict[str, Any]) -> bool:
    """Add an alert unless one with `key` exists; True when added (caller commits)."""
    if db.session.scalar(select(Alert.id).where(Alert.dedupe_key == key)) is not None:
        return False
    db.session.add(
        Alert(
            kind=kind,
            dedupe_key=key[:128],
            text=text,
            details=details,
            state="pending",
            attempts=0,
            next_attempt_at=utcnow(),
            created_at=utcnow(),
        )
    )
    db.session.flush()
    return True


def _deletions(now: datetime) -> int:
    query = select(DeletionRequest).where(
        DeletionRequest.finished_at >= now - WINDOW, DeletionRequest.state.in_(DELETION_STATES)
    )
    added = 0
    for d in db.session.scalars(query):
        words = "ended with failures" if d.state == "done_with_errors" else "was stopped"
        text = f"Deletion #{d.id} by {d.actor} {words} ({d.item_count} images): {d.message or ''}"
        details = {"deletion_id": d.id, "state": d.state, "actor": d.actor, "images": d.item_count}
        added += queue(
            f"deletion.{d.state}", f"deletion:{d.id}:{d.state}", text.strip(" :"), details
        )
    return added


def _approvals(now: datetime) -> int:
    """One alert per new request waiting for a second person (four eyes)."""
    query = select(DeletionRequest).where(
        DeletionRequest.state == "awaiting_approval", DeletionRequest.created_at >= now - WINDOW
    )
    added = 0
    for d in db.session.scalars(query.limit(PER_SCAN)):
        text = (
            f"Deletion #{d.id} by {d.actor} waits for approval ({d.item_count} images): {d.reason}"
        )
        details = {"deletion_id": d.id, "state": d.state, "actor": d.actor, "images": d.item_count}
        added += queue("deletion.awaiting_approval", f"deletion:{d.id}:awaiting", text, details)
    return added


def _not_alerted(kind: str) -> ColumnElement[bool]:
    """No alert of `kind` exists yet for the operation (so old ones are not read each cycle)."""
    key = literal("op:") + cast(Operation.op_id, String) + literal(f":{kind}")
    return ~exists().where(Alert.dedupe_key == key)


def _operations() -> int:
    stale = and_(Operation.state == "stale", _not_alerted("stale"))
    lost = and_(Operation.state == "lost", _not_alerted("lost"))
    added = 0
    for row in db.session.scalars(select(Operation).where(or_(stale, lost)).limit(PER_SCAN)):
        kind = "stale" if row.state == "stale" else "lost"
        words = "makes no progress (stale)" if kind == "stale" else "is lost upstream"
        details = {"op_id": row.op_id, "method": row.method, "state": row.state}
        text = f"Operation #{row.op_id} {words}"
        added += queue(f"operation.{kind}", f"op:{row.op_id}:{kind}", text, details)
    return added


def _failure_rate(now: datetime) -> int:
    t = metric_minutes.c
    start = epoch_minute(now) - 59
    good, bad = db.session.execute(
        select(db.func.sum(t.items_good), db.func.sum(t.items_bad)).where(t.minute >= start)
    ).one()
    good, bad = int(good or 0), int(bad or 0)
    threshold = settings().alert_failure_rate
    if good + bad < settings().alert_min_items or bad / (good + bad) <= threshold:
        return 0
    rate = bad / (good + bad)
    text = (
        f"{rate:.0%} of items failed in the last hour "
        f"({bad} of {good + bad}; threshold {threshold:.0%})"
    )
    details = {"failed": bad, "processed": good + bad, "threshold": threshold}
    return queue("failure_rate", f"failure-rate:{epoch_minute(now) // 60}", text, details)


def scan(now: datetime | None = None) -> int:
    """Queue an alert for each new event; returns how many (commits). Nothing when disabled."""
    if not enabled():
        return 0
    now = now or utcnow()
    added = _deletions(now) + _approvals(now) + _operations() + _failure_rate(now)
    db.session.commit()
    return added


def queue_test(actor: str) -> Alert:
    """Queue a test alert for an admin's button (audited, commits)."""
    now = utcnow()
    text = f"Test alert from wesog-dash, sent by {actor}"
    queue("test", f"test:{now.isoformat()}:{actor}", text, {"actor": actor})
    alert = db.session.scalars(select(Alert).order_by(Alert.id.desc()).limit(1)).one()
    audit.record("alert.tested", actor=actor, details={"alert_id": alert.id, "to": target_host()})
    db.session.commit()
    return alert


def recent(limit: int = 5) -> list[Alert]:
    """The newest alerts, for the overview."""
    return list(db.session.scalars(select(Alert).order_by(Alert.id.desc()).limit(limit)))
