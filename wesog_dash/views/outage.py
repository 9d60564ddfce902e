"""The database away (restarted, failed over, its disk full): 503 with a sentence, not a 500.

Every page and fragment answers a small standalone page (it needs no database: no user, no
menu); the API answers a `database-unavailable` problem. Nothing is lost: writes were in a
transaction that rolled back, the poller retries its own, and pooled connections are tested
before use, so everything resumes without a restart once the database answers again.
"""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.wrappers import Response

from ..database import discard
from ..extensions import db, login_manager

log = logging.getLogger(__name__)
RETRY_AFTER = "5"
DISK_FULL = "database or disk is full"


def unreachable(error: Exception) -> bool:
    """True when `error` says the database could not be used, not that a statement is wrong."""
    if isinstance(error, (OperationalError, PoolTimeout)):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def sentence(error: Exception) -> str:
    """What a person reads: the database is away (or full), nothing was lost."""
    if DISK_FULL in str(error):
        return (
            "The console's database is full (its disk, or its size limit): nothing was "
            "changed. Ask its administrator to free space; then try again."
        )
    return (
        "The console's database is not answering right now (restarting, or out of reach): "
        "nothing was changed and nothing is lost. Try again in a few seconds."
    )


def forget(error: Exception) -> None:
    """Log the outage and make sure nothing after it asks the database again."""
    g._login_user = login_manager.anonymous_user()  # the user cannot be loaded now
    discard(db.session)
    log.warning(
        "database unavailable on %s %s: %s",
        request.method,
        request.path,
        str(error).splitlines()[0],
    )


def unavailable(response: Response) -> Response:
    """The headers of every 503 for a database outage."""
    response.headers["Retry-After"] = RETRY_AFTER
    response.headers["Cache-Control"] = "no-store"
    return response


def database_unavailable(error: Exception) -> Response:
    """503 with a sentence, in a page that needs no database; re-raised for errors that are
    bugs, not outages. (The API answers a problem instead: `api.problems`.)"""
    if not unreachable(error):
        raise error
    forget(error)
    html = render_template("shared/db_unavailable.html", sentence=sentence(error))
    return unavailable(Response(html, 503, content_type="text/html; charset=utf-8"))


def init_app(app: Flask) -> None:
    """Answer database outages with 503 on every page (the API's blueprint does the same)."""
    app.register_error_handler(DBAPIError, database_unavailable)
    app.register_error_handler(PoolTimeout, database_unavailable)
