"""Personal API tokens: issued once, kept only as SHA-256, presented as `Bearer` tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import ApiToken, User, utcnow
from .users import AccountError

TOKEN_PREFIX = "wsd_"
# Writing last_used_at on every API call would turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_digest(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(user: User, *, actor: str) -> str:
    """Create a token for `user` (audited, committed) and return it: the only time it exists."""
    if user.disabled:
        raise AccountError(f"{user.username!r} is disabled; enable it before issuing a token.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_sha256=token_digest(token))
    db.session.add(row)
    db.session.flush()
    audit.record(
        "token.issued", actor=actor, details={"username": user.username, "token_id": row.id}
    )
    db.session.commit()
    return token


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if that is what it is."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or " " in value:
        return None
    return value


def user_for_token(token: str | None) -> User | None:
    """The active user owning this unrevoked token, else None."""
    if not token:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token)))
    if row is None or row.revoked or row.user.disabled:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        row.last_used_at = now
        db.session.commit()
    return row.user
