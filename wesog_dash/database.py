"""The database engine: SQLite tuning (WAL, a busy timeout), and whether the schema is current."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError


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
