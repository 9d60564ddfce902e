"""Server-side sessions: the cookie names a row, and a session without its row is over.

A signed cookie alone cannot be taken back: a copy saved before logout would still work until
it idles out. So each login stores the SHA-256 of a random session id; the user loader accepts
a cookie only while its row exists.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import bindparam, delete, select

from .. import audit
from ..extensions import db
from ..models import User, UserSession, utcnow

SESSION_KEY = "_sid"


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
    return db.session.scalar(SIGNED_IN, {"user_id": user_id, "digest": _digest(session_id)})


def close_session(session_id: str | None) -> None:
    """End one session (logout); commits."""
    if session_id:
        db.session.execute(delete(UserSession).where(UserSession.id_sha256 == _digest(session_id)))
        db.session.commit()


def end_all(user: User) -> int:
    """End every session of `user` (caller commits); returns how many there were."""
    result = db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    return int(getattr(result, "rowcount", 0) or 0)


def log_out_everywhere(user: User, *, actor: str) -> int:
    """End every session of `user`, audited; commits; returns how many ended."""
    ended = end_all(user)
    audit.record(
        "user.sessions_ended", actor=actor, details={"username": user.username, "count": ended}
    )
    db.session.commit()
    return ended
