"""Slowing password guessing without letting anyone lock an account out.

Failed logins are rows in the database, so every process and host counts the same attempts
(no Redis needed: the database is already shared). Within LOGIN_RATE_LIMIT's window
(e.g. "10 per minute"):

* an address that failed that many times (any usernames) is refused until the window passes;
* a username that failed that many times (from any addresses) is "under attack": attempts for
  it are refused from addresses that themselves failed in the window, while an address with no
  recent failure still gets its try — so the right password from the owner's address works,
  and a distributed guesser gets at most one guess per address and window.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from limits import parse
from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import LoginFailure, utcnow


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused, and for how many seconds."""

    retry_after: int
    reason: str  # "address" | "username"


def username_digest(username: str) -> str:
    """The key a username is counted under: SHA-256 of its trimmed, lowercased form."""
    return hashlib.sha256(username.strip().lower()[:64].encode("utf-8")).hexdigest()


def _limit() -> tuple[int, timedelta]:
    """(attempts, window) from LOGIN_RATE_LIMIT, read per request so tests can change it."""
    item = parse(str(current_app.config["LOGIN_RATE_LIMIT"]))
    return item.amount, timedelta(seconds=item.get_expiry())


def enabled() -> bool:
    """The throttle is on unless RATELIMIT_ENABLED is false (tests that log in a lot)."""
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def _failures(since: datetime, **match: str) -> tuple[int, datetime | None]:
    """How many failures match since `since`, and the oldest one's time."""
    query = select(func.count(), func.min(LoginFailure.at)).where(LoginFailure.at >= since)
    for column, value in match.items():
        query = query.where(getattr(LoginFailure, column) == value)
    count, oldest = db.session.execute(query).one()
    return int(count or 0), oldest


def refusal(username: str, address: str) -> Refusal | None:
    """Whether a login attempt for `username` from `address` must wait (None: let it try)."""
    if not enabled():
        return None
    amount, window = _limit()
    now = utcnow()
    since = now - window
    by_address, oldest = _failures(since, remote_addr=address)
    if by_address >= amount:
        return Refusal(_seconds_left(oldest, window, now), "address")
    by_user, oldest_user = _failures(since, username_sha256=username_digest(username))
    if by_user >= amount and by_address > 0:
        return Refusal(_seconds_left(oldest_user, window, now), "username")
    return None


def _seconds_left(oldest: datetime | None, window: timedelta, now: datetime) -> int:
    """Seconds until the oldest counted failure leaves the window (at least 1)."""
    if oldest is None:
        return 1
    return max(1, int((oldest + window - now).total_seconds()) + 1)


def note_failure(username: str, address: str) -> None:
    """Count one failed attempt and forget the ones too old to matter (caller commits)."""
    now = utcnow()
    _, window = _limit()
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - 2 * window))
    row = LoginFailure(username_sha256=username_digest(username), remote_addr=address[:64], at=now)
    db.session.add(row)
