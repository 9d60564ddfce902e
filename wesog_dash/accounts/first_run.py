"""First run: while no user exists, a one-time setup URL creates the first admin.

The server prints that URL to its console (log and stdout) the first time someone visits
while no user exists; `flask users setup-url` prints one too. Only the token's SHA-256 is
stored; it is valid for one hour and works once.
"""

from __future__ import annotations

import logging
import secrets
import threading
from datetime import timedelta
from typing import Any, cast

from flask import Flask, current_app
from sqlalchemy import CursorResult, Select, select, update

from .. import audit
from ..database import hold_writes_to
from ..extensions import db
from ..models import SetupToken, User, utcnow
from . import users as accounts
from .tokens import token_digest

SETUP_TOKEN_LIFETIME = timedelta(hours=1)
logger = logging.getLogger("wesog_dash")
_announce_lock = threading.Lock()


class SetupError(ValueError):
    """The setup link cannot be used; the message is user-safe."""


def users_exist(app: Flask | None = None) -> bool:
    """True once any user exists (remembered: users are disabled, never deleted)."""
    app = app or current_app
    if app.extensions.get("wesog_setup_done"):
        return True
    done = accounts.user_count() > 0
    if done:
        app.extensions["wesog_setup_done"] = True
    return done


def issue_setup_token() -> str:
    """Create a one-time setup token (committed) and return it; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    expires = utcnow() + SETUP_TOKEN_LIFETIME
    db.session.add(SetupToken(token_sha256=token_digest(token), expires_at=expires))
    db.session.commit()
    return token


def setup_url(base_url: str, token: str) -> str:
    """The URL that opens the setup form, e.g. http://127.0.0.1:5000/setup/<token>."""
    return f"{base_url.rstrip('/')}/setup/{token}"


def _usable_token_query(digest: str | None = None) -> Select[SetupToken]:
    query = select(SetupToken).where(SetupToken.used_at.is_(None))
    query = query.where(SetupToken.expires_at > utcnow())
    return query if digest is None else query.where(SetupToken.token_sha256 == digest)


def usable_token_exists() -> bool:
    """True when an unused, unexpired setup token is waiting to be used."""
    return db.session.scalar(_usable_token_query().limit(1)) is not None


def announce(url: str) -> None:
    """Tell whoever runs the server where to finish setup: the log and stdout."""
    message = f"No user exists yet. Create the first admin at {url} (valid one hour, works once)."
    logger.warning(message)
    print(f"\n  *** wesog-dash setup: open {url}\n  (valid one hour, works once)\n", flush=True)


def ensure_announced(base_url: str) -> None:
    """Print a fresh setup URL (under `base_url`) unless a usable one was already handed out."""
    with _announce_lock:
        told = current_app.extensions.get("wesog_setup_told")
        current_app.extensions["wesog_setup_told"] = True
        if usable_token_exists():
            if not told:  # issued by `users setup-url` (as `make run` does) before we started
                logger.warning(
                    "No user exists yet; a setup URL was already printed. For a new one run "
                    "`flask --app app users setup-url`."
                )
            return
        announce(setup_url(base_url, issue_setup_token()))


def check_setup_token(token: str) -> None:
    """SetupError unless `token` is an unused, unexpired setup token."""
    if db.session.scalar(_usable_token_query(token_digest(token))) is None:
        raise SetupError(
            "This setup link is not valid: it was already used, it expired (links last one "
            "hour) or it is mistyped."
        )


def complete_setup(token: str, username: str, password: str) -> User:
    """Create the first admin with a setup token (audited, committed); one winner only."""
    check_setup_token(token)
    accounts.validate_new_user(username, password, "admin")
    # Spend the token first, then hold user writes (SQLite's write lock is already ours
    # by then): a second tab (or a second token) cannot slip in a user between our count
    # and our insert.
    spent = db.session.execute(
        update(SetupToken)
        .where(SetupToken.token_sha256 == token_digest(token), SetupToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    spent_count = cast(CursorResult[Any], spent).rowcount  # an UPDATE's result has one
    hold_writes_to(db.session, User.__tablename__)
    if spent_count != 1 or accounts.user_count() > 0:
        db.session.rollback()
        raise SetupError("Setup is already complete: log in instead.")
    try:
        user = accounts.add_user(username, password, "admin", actor=username.strip())
    except accounts.AccountError:
        db.session.rollback()
        raise
    audit.record("setup.completed", actor=user.username, details={"username": user.username})
    db.session.commit()
    current_app.extensions["wesog_setup_done"] = True
    return user
