"""Server-side sessions: the cookie names a row, and a session without its row is over.

A signed cookie alone cannot be taken back: a copy saved before logout would still work until
it idles out. So each login stores the SHA-256 of a random session id; the user loader accepts
a cookie only while its row exists.

Each process also remembers, for WESOG_SIGNED_IN_RECHECK_SECONDS, the sessions it found open:
an idle poll may answer "nothing changed" on that memory alone (views/idle.py). Ending a
session forgets them all in this process; other processes recheck within that many seconds.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from flask import current_app, request
from sqlalchemy import bindparam, delete, select

from .. import audit
from ..config import bounded_seconds, settings
from ..extensions import db
from ..models import User, UserSession, role_at_least, utcnow

SESSION_KEY = "_sid"
VERIFIED = "wesog_verified_sessions"  # app.extensions: digest -> (user id, role, when checked)
MAX_VERIFIED = 10_000  # sessions remembered per process before the memory starts afresh


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def open_session(user: User) -> str:
    """Record a new signed-in session for `user` (caller commits); returns its id."""
    session_id = secrets.token_urlsafe(32)
    db.session.add(UserSession(id_sha256=_digest(session_id), user_id=user.id, created_at=utcnow()))
    return session_id


# Built once: it runs on every request of a signed-in user, polls included.
SIGNED_IN = (
    select(User)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        User.id == bindparam("user_id"),
        User.disabled.is_(False),
        UserSession.id_sha256 == bindparam("digest"),
    )
)


def signed_in_user(session_id: str | None, user_id: int) -> User | None:
    """The enabled user `user_id` while this session id is recorded for them (one query)."""
    if not session_id:
        return None
    digest = _digest(session_id)
    user = db.session.scalar(SIGNED_IN, {"user_id": user_id, "digest": digest})
    if user is not None:
        _remember(digest, user)
    return user


def _verified() -> dict[str, tuple[int, str, float]]:
    return current_app.extensions.setdefault(VERIFIED, {})


def _remember(digest: str, user: User) -> None:
    verified = _verified()
    if len(verified) >= MAX_VERIFIED:
        verified.clear()
    verified[digest] = (user.id, user.role, time.monotonic())


def verified_recently(session_id: str | None, user_id: int, role: str) -> bool:
    """True when this process found this session open for `user_id`, with `role` or above,
    less than WESOG_SIGNED_IN_RECHECK_SECONDS ago (no query)."""
    max_age = bounded_seconds(settings().signed_in_recheck_seconds, 60.0)
    if not session_id or max_age <= 0:
        return False
    entry = _verified().get(_digest(session_id))
    if entry is None:
        return False
    known_id, known_role, checked_at = entry
    fresh = time.monotonic() - checked_at < max_age
    return fresh and known_id == user_id and role_at_least(known_role, role)


def forget_verified() -> None:
    """Sessions end: no idle poll of this process answers on memory until rechecked."""
    _verified().clear()


def close_session(session_id: str | None) -> None:
    """End one session (logout); commits."""
    if session_id:
        db.session.execute(delete(UserSession).where(UserSession.id_sha256 == _digest(session_id)))
        db.session.commit()
        forget_verified()


def end_all(user: User) -> int:
    """End every session of `user` (caller commits); returns how many there were."""
    result = db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    forget_verified()
    return int(getattr(result, "rowcount", 0) or 0)


def log_out_everywhere(user: User, *, actor: str) -> int:
    """End every session of `user`, audited; commits; returns how many ended."""
    ended = end_all(user)
    audit.record(
        "user.sessions_ended", actor=actor, details={"username": user.username, "count": ended}
    )
    db.session.commit()
    return ended


# The blueprint whose requests a bearer token (and never a session cookie) authenticates.
API_BLUEPRINT = "api"


def bearer_only() -> bool:
    """Whether this request is one that only a bearer token may authenticate (the JSON API)."""
    return request.blueprint == API_BLUEPRINT
