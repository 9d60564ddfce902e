"""Delivering queued alerts: signed JSON POSTs with short timeouts, retried with back-off.

The HTTP call happens outside any database transaction. At most DELIVERIES_PER_CYCLE alerts
go out per cycle, so a slow receiver costs the poller's helper at most a few seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import requests
from sqlalchemy import select, update

from .. import audit
from ..config import settings
from ..extensions import db
from ..inputs import whole_number
from ..models import Alert, utcnow
from .outbox import target_host

SIGNATURE_HEADER = "X-Wesog-Signature"
DELIVERIES_PER_CYCLE = 5
MAX_ATTEMPTS = 8
TIMEOUT = (2.0, 3.0)  # connect, read: seconds
MAX_BACKOFF = 3600.0
CLAIM = 30.0  # seconds a round owns the alerts it sends; a crash mid-send retries after it


def sign(body: bytes, secret: str, at: int | None = None) -> str:
    """The signature header value `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`:
    the time is signed too, so a receiver can refuse a delivery replayed later."""
    stamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def verify(header: str, body: bytes, secret: str, tolerance: int = 300) -> bool:
    """What a receiver does (README): the MAC matches and `t` is within `tolerance` s of now."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    stamp = whole_number(fields.get("t"))
    if stamp is None or abs(time.time() - stamp) > tolerance:
        return False
    return hmac.compare_digest(sign(body, secret, stamp), f"t={stamp},v1={fields.get('v1')}")


def body_of(alert: Alert) -> bytes:
    """The JSON sent: a Slack-compatible `text`, and the event's kind, time and details."""
    payload = {
        "text": alert.text,
        "kind": alert.kind,
        "alert_id": alert.id,
        "at": alert.created_at.isoformat(),
        "details": alert.details or {},
    }
    return json.dumps(payload, sort_keys=True).encode()


def post(body: bytes) -> str | None:
    """POST the body to WESOG_ALERT_URL; None on 2xx, else what went wrong (no secret in it)."""
    headers = {"Content-Type": "application/json", "User-Agent": "wesog-dash alerts"}
    secret = settings().alert_secret
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    try:
        response = requests.post(
            settings().alert_url or "", data=body, headers=headers, timeout=TIMEOUT
        )
    except requests.RequestException as exc:
        return f"no answer ({type(exc).__name__})"
    return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"


def _claim() -> list[tuple[int, bytes]]:
    """Take the due alerts for CLAIM seconds (committed), so no other round sends them too."""
    now = utcnow()
    due = (Alert.state == "pending", Alert.next_attempt_at <= now)
    query = select(Alert).where(*due).order_by(Alert.next_attempt_at, Alert.id)
    found = []
    for alert in db.session.scalars(query.limit(DELIVERIES_PER_CYCLE)).all():
        taken = db.session.execute(
            update(Alert)
            .where(Alert.id == alert.id, *due)
            .values(next_attempt_at=now + timedelta(seconds=CLAIM))
        )
        if getattr(taken, "rowcount", 0) == 1:
            found.append((alert.id, body_of(alert)))
    db.session.commit()  # nothing is held while we wait on the network
    return found


def _record(alert_id: int, problem: str | None) -> None:
    alert = db.session.get(Alert, alert_id)
    if alert is None or alert.state != "pending":
        return
    alert.attempts += 1
    details = {
        "alert_id": alert.id,
        "kind": alert.kind,
        "attempts": alert.attempts,
        "to": target_host(),
    }
    if problem is None:
        alert.state, alert.sent_at, alert.last_error = "sent", utcnow(), None
        audit.record("alert.sent", actor="system", details=details)
    elif alert.attempts >= MAX_ATTEMPTS:
        alert.state, alert.last_error = "failed", problem
        audit.record("alert.failed", actor="system", details={**details, "error": problem})
    else:
        base = settings().alert_retry_base
        delay = min(MAX_BACKOFF, base * 2 ** (alert.attempts - 1))
        alert.last_error, alert.next_attempt_at = problem, utcnow() + timedelta(seconds=delay)
    db.session.commit()


def deliver_due() -> int:
    """Send the alerts that are due (at most DELIVERIES_PER_CYCLE); returns how many went."""
    if not settings().alert_url:
        return 0
    sent = 0
    for alert_id, body in _claim():
        problem = post(body)
        _record(alert_id, problem)
        sent += problem is None
    return sent
