"""Accounts: password hashing, user lookup and creation."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from . import audit
from .extensions import db, login_manager
from .models import ROLES, User, utcnow

hasher = PasswordHasher()
# Verified against when the username is unknown, so that both paths cost the same time.
_DUMMY_HASH = hasher.hash("not a real password")


class AccountError(ValueError):
    """A request about accounts that cannot be honoured; the message is user-safe."""


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the active user with this id, if any."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and not user.disabled else None


def find_user(username: str) -> User | None:
    """The user with this username, if any."""
    return db.session.scalar(select(User).where(User.username == username))


def authenticate(username: str, password: str) -> User | None:
    """The active user whose password matches, else None."""
    user = find_user(username)
    try:
        hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    return user


def create_user(username: str, password: str, role: str, *, actor: str) -> User:
    """Create a user (audited) and commit; AccountError on bad input."""
    username = username.strip()
    if not username or len(username) > 64 or not username.replace("-", "").replace(".", "").replace("_", "").isalnum():
        raise AccountError("A username is 1–64 letters, digits, '.', '-' or '_'.")
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    if len(password) < 10:
        raise AccountError("A password needs at least 10 characters.")
    if find_user(username) is not None:
        raise AccountError(f"A user named {username!r} already exists.")
    user = User(username=username, password_hash=hasher.hash(password), role=role)
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", actor=actor, details={"username": username, "role": role})
    db.session.commit()
    return user


def note_login(user: User) -> None:
    """Stamp a successful login (the caller audits and commits)."""
    user.last_login_at = utcnow()
