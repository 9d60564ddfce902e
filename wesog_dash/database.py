"""The two engines: SQLite (embedded default, WAL) and PostgreSQL (psycopg 3).

What differs between them is decided here, once: the URL's driver, the engine options and
SQLite's per-connection tuning. Everything else is written once for both. Also: whether the
schema is at the newest migration (/readyz).
"""

from __future__ import annotations

import select
from dataclasses import dataclass
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import Session, scoped_session

# A session, or Flask-SQLAlchemy's per-context proxy of one (`db.session`).
AnySession = Session | scoped_session[Any]

# Both spellings of a bare PostgreSQL URL (`postgres://` is what many hosts hand out) mean
# psycopg 3, the only PostgreSQL driver we ship; SQLAlchemy alone would pick psycopg2.
PG_SCHEMES = ("postgres://", "postgresql://")
PG_DRIVER = "postgresql+psycopg://"


def normalize_url(uri: str) -> str:
    """The SQLAlchemy URL to use: a bare PostgreSQL URL gets the psycopg 3 driver."""
    for scheme in PG_SCHEMES:
        if uri.startswith(scheme):
            return PG_DRIVER + uri.removeprefix(scheme)
    return uri


def engine_options(uri: str) -> dict[str, Any]:
    """Engine options for this URL's database (SQLAlchemy's `create_engine` keywords)."""
    # hide_parameters: SQL logs and database errors never show values (password hashes…).
    options: dict[str, Any] = {"hide_parameters": True}
    backend = make_url(uri).get_backend_name()
    if backend == "sqlite":
        # Seconds a writer waits for SQLite's single write lock before "database is locked".
        options["connect_args"] = {"timeout": 10}
    elif backend == "postgresql":
        options.update(
            # No `pool_pre_ping`: its test query cost every request a round trip. A connection
            # the server closed (restart, idle timeout) is caught at checkout for free instead
            # (`check_connections`).
            # gunicorn's 8 threads plus the poller's workers share one pool per process.
            pool_size=10,
            max_overflow=10,
            pool_timeout=10,
            pool_recycle=1800,
            connect_args={"connect_timeout": 10, "application_name": "wesog-dash"},
        )
    return options


def check_connections(engine: Engine) -> None:
    """On PostgreSQL, test each pooled connection at checkout without a round trip.

    A server that restarts, times a session out or terminates it says so and closes the
    socket, so the idle connection's socket becomes readable; one found readable is replaced
    (SQLAlchemy retries the checkout with a new connection). A link cut without a word (no
    FIN) is not seen here: the first statement fails, the pool is discarded, and that one
    request answers 503 like any database outage.
    """
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if closed_by_server(dbapi_connection):
            raise DisconnectionError("the database server closed this connection")


def closed_by_server(connection: Any) -> bool:
    """True when an idle connection's socket is readable (the server spoke or hung up)."""
    if getattr(connection, "closed", False):
        return True
    try:
        readable, _, _ = select.select([connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def tune_sqlite(engine: Engine) -> None:
    """Turn on WAL, a busy timeout and foreign keys on every new SQLite connection."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def end_idle_transactions(engine: Engine, seconds: float) -> bool:
    """Have PostgreSQL end any transaction of `engine` left idle `seconds` (its session too).

    Set at each connection's start (libpq `options`), so no statement is spent on it; the
    pooled connections opened before are replaced. False on SQLite: nothing to set.
    """
    if engine.dialect.name != "postgresql":
        return False
    setting = f"-c idle_in_transaction_session_timeout={max(1, round(seconds * 1000))}"

    @event.listens_for(engine, "do_connect")
    def _on_connect(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        params["options"] = f"{params.get('options') or ''} {setting}".strip()

    engine.dispose()
    return True


def discard(session: AnySession) -> None:
    """Roll `session` back, even when the database ended its connection meanwhile."""
    try:
        session.rollback()
    except DBAPIError:  # that rollback found the connection gone and invalidated it
        session.rollback()


def read_without_transaction(session: Session) -> None:
    """On PostgreSQL, run `session`'s statements each on its own until it ends (autocommit).

    For polled fragments, which read and at most write one statement (marking a row viewed):
    the BEGIN and ROLLBACK around their reads were two of five round trips, paid by every open
    tab every second. The pool gives the connection back transactional. SQLite begins no
    transaction for a read: nothing to do there.
    """
    if session.get_bind().dialect.name != "postgresql" or session.in_transaction():
        return  # a connection already in use keeps its transaction
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def limit_lock_wait(session: AnySession, seconds: float) -> None:
    """On PostgreSQL, the current transaction's statements wait at most `seconds` for a lock
    (then fail with LockNotAvailable) instead of as long as the holder keeps it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = {max(1, round(seconds * 1000))}"))


@dataclass(frozen=True)
class SchemaStatus:
    """What /readyz says about the database."""

    database: str  # "ok" or the error class
    migrations: str  # "current", "behind (…)", or "unknown"


def script_heads(app: Flask) -> set[str]:
    """The newest revision(s) of `migrations/` (read once per app)."""
    heads = app.extensions.get("wesog_script_heads")
    if heads is None:
        config = Config()
        config.set_main_option("script_location", app.extensions["migrate"].directory)
        heads = set(ScriptDirectory.from_config(config).get_heads())
        app.extensions["wesog_script_heads"] = heads
    return heads


def schema_status(app: Flask) -> SchemaStatus:
    """Does the database answer, and is its schema at the newest migration?"""
    engine = app.extensions["sqlalchemy"].engine
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as exc:
        return SchemaStatus(type(exc).__name__, "unknown")
    expected = script_heads(app)
    if current == expected:
        return SchemaStatus("ok", "current")
    found = ", ".join(sorted(current)) or "empty"
    return SchemaStatus("ok", f"behind ({found}; newest is {', '.join(sorted(expected))})")


def hold_writes_to(session: AnySession, table: str) -> None:
    """Keep other transactions from writing `table` until ours ends, before counting its rows.

    What SQLite's single write lock gives for free: once a transaction has written, no other
    can write anything until it ends (so there, count after a write of ours). PostgreSQL locks
    rows, so a transaction that counts rows and then writes on the strength of it takes this
    table lock first, before it writes to `table` itself (after, two could deadlock).
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        name = bind.dialect.identifier_preparer.quote(table)
        with session.no_autoflush:  # the lock first: pending changes may write to `table`
            session.execute(text(f"LOCK TABLE {name} IN SHARE ROW EXCLUSIVE MODE"))
