"""People who use the console, their API tokens, and the first-run setup token."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, utcnow

ROLES = ("viewer", "operator", "admin")


def role_at_least(held: str, needed: str) -> bool:
    """True when the role `held` is `needed` or above it."""
    return ROLES.index(held) >= ROLES.index(needed)


class User(UserMixin, Model):
    """A console user with one role."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:  # used by Flask-Login
        """Disabled users cannot log in or keep a session."""
        return not self.disabled

    def has_role(self, role: str) -> bool:
        """True when this user's role is `role` or above it."""
        return role_at_least(self.role, role)


TOKEN_SCOPES = ("read", "operate")


class ApiToken(Model):
    """A personal API token; only its SHA-256 is kept. `scope` caps what the role allows."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(default=False)
    scope: Mapped[str] = mapped_column(String(16), default="read")
    label: Mapped[str | None] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")


class SetupToken(Model):
    """The one-time token that creates the first admin; only its SHA-256 is kept."""

    __tablename__ = "setup_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailure(Model):
    """One failed login: for how the throttle counts, shared by every process and host.

    The username is kept only as the SHA-256 of its lowercased form: people type passwords
    into the username field.
    """

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username_sha256: Mapped[str] = mapped_column(String(64))
    remote_addr: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    __table_args__ = (
        Index("ix_login_failures_user_at", "username_sha256", "at"),
        Index("ix_login_failures_addr_at", "remote_addr", "at"),
    )


class UserSession(Model):
    """A signed-in browser, known on the server, so that logging out really ends it.

    The cookie holds a random id; only its SHA-256 is stored. Logout deletes the row; disabling
    a user, changing their role or password, and "log out everywhere" delete all of theirs.
    """

    __tablename__ = "user_sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
