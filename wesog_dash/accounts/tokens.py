"""Personal API tokens: issued once with a scope and an expiry, kept only as SHA-256,
presented as `Bearer` tokens, listed and revoked; refused uses of dead tokens are audited.

A token's `scope` caps what its owner's role allows: `read` lets it only read, `operate`
lets it do what the role allows (an operator's deletes). The role is still checked on every
call, so a token never outlives a demotion.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Request, g, request
from sqlalchemy import select

from .. import audit
from ..extensions import db, login_manager
from ..models import TOKEN_SCOPES, ApiToken, User, utcnow
from . import sessions
from .users import AccountError

TOKEN_PREFIX = "wsd_"
DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 3650
MAX_LABEL = 128
# Writing last_used_at on every API call would turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: the secret (shown once) and what it may do until when."""

    id: int
    token: str
    scope: str
    expires_at: datetime
    label: str | None


@dataclass(frozen=True)
class TokenCheck:
    """The result of presenting a token: the user and scope, or why it is refused."""

    user: User | None = None
    scope: str | None = None
    token: ApiToken | None = None
    refusal: str | None = None  # missing | unknown | revoked | expired | disabled


def token_digest(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def default_scope(user: User) -> str:
    """What a token may do when no scope is asked for: what the user's role allows."""
    return "operate" if user.has_role("operator") else "read"


def _checked(user: User, scope: str | None, days: int, label: str | None) -> tuple[str, str | None]:
    if user.disabled:
        raise AccountError(f"{user.username!r} is disabled; enable it before issuing a token.")
    scope = scope or default_scope(user)
    if scope not in TOKEN_SCOPES:
        raise AccountError(f"A token's scope is one of: {', '.join(TOKEN_SCOPES)}.")
    if scope == "operate" and not user.has_role("operator"):
        raise AccountError(f"{user.username!r} is a {user.role}: its tokens can only read.")
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        raise AccountError(f"A token expires after 1 to {MAX_EXPIRY_DAYS} days.")
    label = (label or "").strip() or None
    if label is not None and len(label) > MAX_LABEL:
        raise AccountError(f"A token's label is at most {MAX_LABEL} characters.")
    return scope, label


def issue(
    user: User,
    *,
    actor: str,
    scope: str | None = None,
    expires_days: int = DEFAULT_EXPIRY_DAYS,
    label: str | None = None,
) -> IssuedToken:
    """Create a token for `user` (audited, committed): the only time its secret exists."""
    scope, label = _checked(user, scope, expires_days, label)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(days=expires_days)
    row = ApiToken(
        user_id=user.id,
        token_sha256=token_digest(token),
        scope=scope,
        label=label,
        expires_at=expires_at,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "token.issued",
        actor=actor,
        details={
            "username": user.username,
            "token_id": row.id,
            "scope": scope,
            "expires_at": expires_at.isoformat(),
            "label": label,
        },
    )
    db.session.commit()
    return IssuedToken(row.id, token, scope, expires_at, label)


def issue_token(user: User, *, actor: str) -> str:
    """Create a token with the defaults (the role's scope, 90 days) and return its secret."""
    return issue(user, actor=actor).token


def request_check() -> TokenCheck:
    """This request's bearer token, checked once per request (the result is kept in `g`)."""
    check: TokenCheck | None = g.get("token_check")
    if check is None:
        header = request.headers.get("Authorization")
        check = check_token(bearer_token(header), remote_addr=request.remote_addr)
        g.token_check = check
    return check


@login_manager.request_loader
def load_user_from_token(_request: Request) -> User | None:
    """Flask-Login's request loader: under the API, the user of a valid bearer token."""
    return request_check().user if sessions.bearer_only() else None


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if that is what it is."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or " " in value:
        return None
    return value


def check_token(token: str | None, *, remote_addr: str | None = None) -> TokenCheck:
    """Who this token lets in, with which scope; a revoked or expired one is audited."""
    if not token:
        return TokenCheck(refusal="missing")
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token)))
    if row is None:
        return TokenCheck(refusal="unknown")
    now = utcnow()
    refusal = "revoked" if row.revoked else "expired" if row.expires_at <= now else None
    if refusal is None and row.user.disabled:
        refusal = "disabled"
    if refusal is not None:
        _record_refusal(row, refusal, remote_addr)
        return TokenCheck(refusal=refusal)
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        row.last_used_at = now
        db.session.commit()
    return TokenCheck(user=row.user, scope=row.scope, token=row)


def _record_refusal(row: ApiToken, refusal: str, remote_addr: str | None) -> None:
    audit.record(
        "token.refused",
        actor=row.user.username,
        outcome=refusal,
        remote_addr=remote_addr,
        details={"token_id": row.id, "why": refusal},
    )
    db.session.commit()


def tokens_of(user: User) -> list[ApiToken]:
    """Every token of `user`, newest first (revoked and expired ones included)."""
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    return list(db.session.scalars(query))


def live_tokens_of(user: User) -> list[ApiToken]:
    """The tokens of `user` that still work (not revoked, not expired), newest first."""
    return [row for row in tokens_of(user) if token_status(row) == "active"]


def revoke_all_of(user: User, *, actor: str) -> int:
    """Revoke every live token of `user` (each audited); commits; returns how many."""
    live = live_tokens_of(user)
    for row in live:
        row.revoked, row.revoked_at = True, utcnow()
        details = {"username": user.username, "token_id": row.id}
        audit.record("token.revoked", actor=actor, details=details)
    db.session.commit()
    return len(live)


def all_tokens(limit: int = 500) -> list[ApiToken]:
    """The newest tokens of every user (revoked and expired ones included)."""
    query = select(ApiToken).order_by(ApiToken.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def get_token(token_id: int) -> ApiToken | None:
    """One token row by id."""
    return db.session.get(ApiToken, token_id)


def revoke(token_id: int, *, actor: str) -> ApiToken:
    """Revoke a token at once (audited, committed); AccountError if there is none."""
    row = get_token(token_id)
    if row is None:
        raise AccountError(f"There is no token {token_id}.")
    if row.revoked:
        raise AccountError(f"Token {token_id} is already revoked.")
    row.revoked, row.revoked_at = True, utcnow()
    audit.record(
        "token.revoked", actor=actor, details={"username": row.user.username, "token_id": row.id}
    )
    db.session.commit()
    return row


def token_status(row: ApiToken, now: datetime | None = None) -> str:
    """`active`, `revoked` or `expired`, for lists."""
    if row.revoked:
        return "revoked"
    return "expired" if row.expires_at <= (now or utcnow()) else "active"
