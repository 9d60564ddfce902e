"""Wake-ups across processes: a deletion queued in a web process wakes the poller process.

On PostgreSQL every `signals.wake()` also sends `NOTIFY wesog_wake` (autocommit, on a pooled
connection: callers wake after their commit, so the poller finds the row), and the process
that polls LISTENs on a connection of its own, in a thread that sets its wake-up event.
SQLite has no such channel: there the poller runs inside the web process (the in-process
event) or, as a separate process, starts at its next cycle.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from flask import Flask
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from .. import signals
from ..extensions import db

CHANNEL = "wesog_wake"
RETRY_SECONDS = 2.0  # after the listening connection failed: the poller still cycles meanwhile
log = logging.getLogger(__name__)


def on_postgresql(app: Flask) -> bool:
    """Whether the app's database is PostgreSQL (read from the URL: no connection made)."""
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "postgresql"


def install(app: Flask) -> None:
    """Make every wake-up of this process a NOTIFY too, on PostgreSQL."""
    if on_postgresql(app):
        signals.set_broadcast(app, notify)


def notify() -> None:
    """Tell every listening poller process (inside an app context)."""
    try:
        with db.engine.connect() as connection:
            connection.exec_driver_sql(f"NOTIFY {CHANNEL}")
            connection.commit()
    except SQLAlchemyError as exc:  # the poller's next cycle picks the work up anyway
        log.warning("could not wake the poller process: %s", exc.__class__.__name__)


def conninfo(app: Flask) -> str:
    """A libpq connection string for the app's PostgreSQL database."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    # Keyword by keyword: libpq reads no '+' for a space in a URL's `options`.
    extra = {key: value for key, value in url.query.items() if isinstance(value, str)}
    parts = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
    }
    given = {key: str(value) for key, value in parts.items() if value is not None}
    return make_conninfo("", **given, **extra)


def listen(app: Flask, event: threading.Event, stop: threading.Event) -> threading.Thread | None:
    """Start a thread that sets `event` on every NOTIFY until `stop`; None on SQLite."""
    if not on_postgresql(app):
        return None
    thread = threading.Thread(
        target=_listen_forever,
        args=(conninfo(app), event.set, stop),
        name="wesog-wakeups",
        daemon=True,
    )
    thread.start()
    return thread


def _listen_forever(info: str, wake: Callable[[], None], stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with psycopg.connect(info, autocommit=True, connect_timeout=5) as connection:
                connection.execute(f"LISTEN {CHANNEL}")
                wake()  # anything sent while we were not listening is picked up now
                while not stop.is_set():
                    for _ in connection.notifies(timeout=1.0):
                        wake()
        except psycopg.Error as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
            log.warning("listening for wake-ups failed (%s); retrying", reason)
            stop.wait(RETRY_SECONDS)
