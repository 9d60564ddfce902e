"""Accounts: password hashing, user lookup, creation, roles and disabling."""

from __future__ import annotations

import re
from typing import Any

from flask import session
from sqlalchemy import func, select

from .. import audit
from ..database import hold_writes_to
from ..extensions import db, login_manager
from ..inputs import whole_number
from ..models import ROLES, User, utcnow
from . import passwords, sessions, throttle

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A request about accounts that cannot be honoured; the message is user-safe."""


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the active user with this id, while the session is still open.

    Never under the API, which only a bearer token authenticates (`tokens.load_user_from_token`).
    """
    number = whole_number(user_id)
    if number is None or sessions.bearer_only():
        return None
    return sessions.signed_in_user(session.get(sessions.SESSION_KEY), number)


def user_by_id(user_id: int) -> User | None:
    """The user with this id, if any (disabled ones included)."""
    return db.session.get(User, user_id)


def find_user(username: str) -> User | None:
    """The user with this username, if any."""
    return db.session.scalar(select(User).where(User.username == username))


def get_user(username: str) -> User:
    """The user with this username; AccountError when there is none."""
    user = find_user(username)
    if user is None:
        raise AccountError(f"There is no user named {username!r}.")
    return user


def list_users() -> list[User]:
    """Every user, by username."""
    return list(db.session.scalars(select(User).order_by(User.username)))


def user_count() -> int:
    """How many users exist (active or not)."""
    return int(db.session.scalar(select(func.count(User.id))) or 0)


def authenticate(username: str, password: str) -> User | None:
    """The active user whose password matches, else None."""
    user = find_user(username)
    if not passwords.verify(user.password_hash if user else None, password):
        return None
    if user is None or user.disabled:
        return None
    if passwords.needs_rehash(user.password_hash):
        # Parameters changed since this hash was made: upgrade it now that we hold the password.
        user.password_hash = passwords.hash_password(password)
        db.session.commit()
    return user


def check_role(role: str) -> None:
    """AccountError unless `role` is one of the known roles."""
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")


def validate_new_user(username: str, password: str, role: str) -> str:
    """The cleaned username, or AccountError saying what is wrong."""
    username = username.strip()
    if not USERNAME_PATTERN.fullmatch(username):
        raise AccountError("A username is 1–64 letters, digits, '.', '-' or '_'.")
    check_role(role)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if find_user(username) is not None:
        raise AccountError(f"A user named {username!r} already exists.")
    return username


def add_user(username: str, password: str, role: str, *, actor: str) -> User:
    """Add a user and its audit event to the current transaction (the caller commits)."""
    username = validate_new_user(username, password, role)
    user = User(username=username, password_hash=passwords.hash_password(password), role=role)
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", actor=actor, details={"username": username, "role": role})
    return user


def create_user(username: str, password: str, role: str, *, actor: str) -> User:
    """Create a user (audited) and commit; AccountError on bad input."""
    user = add_user(username, password, role, actor=actor)
    db.session.commit()
    return user


def _active_admins() -> int:
    query = select(func.count(User.id)).where(User.role == "admin", User.disabled.is_(False))
    return int(db.session.scalar(query) or 0)


def _keep_an_admin(user: User) -> None:
    """Refuse (and undo) a change to `user` that left no active admin to manage users.

    Counted after the change, while user writes are held (a table lock on PostgreSQL, taken
    before our own row is written; SQLite's write lock, taken by that write): two admins
    demoting each other at once cannot both succeed.
    """
    name = user.username
    hold_writes_to(db.session, User.__tablename__)
    db.session.flush()
    if _active_admins() == 0:
        db.session.rollback()
        raise AccountError(f"{name!r} is the last active admin; make another first.")


def set_role(username: str, role: str, *, actor: str) -> User:
    """Change a user's role (audited) and commit."""
    check_role(role)
    user = get_user(username)
    if user.role == role:
        return user
    previous, user.role = user.role, role
    if previous == "admin" and not user.disabled:
        _keep_an_admin(user)
    sessions.end_all(user)  # the new role applies from a fresh login
    audit.record(
        "user.role_changed",
        actor=actor,
        details={"username": user.username, "from": previous, "to": role},
    )
    db.session.commit()
    return user


def disable_user(username: str, *, actor: str) -> User:
    """Disable a user (audited) and commit: their sessions and tokens stop working."""
    user = get_user(username)
    if user.disabled:
        return user
    user.disabled = True
    if user.role == "admin":
        _keep_an_admin(user)
    sessions.end_all(user)
    audit.record("user.disabled", actor=actor, details={"username": user.username})
    db.session.commit()
    return user


def record_login(user: User, *, audited: bool = True) -> None:
    """Stamp (and audit, unless the setup form already did) a successful login; commits."""
    user.last_login_at = utcnow()
    if audited:
        audit.record("login.succeeded", actor=user.username)
    db.session.commit()


def record_failed_login(username: str, address: str, slowed: float = 0.0) -> None:
    """Audit and count (for the throttle) a failed login, and how long it was slowed; commits.

    Only a username that exists is recorded: people sometimes type their password into the
    username field, and the audit log is readable and exportable by viewers.
    """
    known = find_user(username) is not None
    details: dict[str, Any] = (
        {"username": username} if known else {"username": None, "unknown_user": True}
    )
    if slowed:
        details["slowed_seconds"] = round(slowed, 3)
    audit.record("login.failed", actor="anonymous", details=details)
    throttle.note_failure(username, address)
    db.session.commit()


def set_password(username: str, password: str, *, actor: str) -> User:
    """Give a user a new password (audited) and end their sessions; commits."""
    user = get_user(username)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    user.password_hash = passwords.hash_password(password)
    sessions.end_all(user)
    audit.record("user.password_changed", actor=actor, details={"username": user.username})
    db.session.commit()
    return user
