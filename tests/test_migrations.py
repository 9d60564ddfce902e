"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from wesog_dash import create_app
from wesog_dash.extensions import db
from wesog_dash.models import search

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

ROOT = Path(__file__).resolve().parent.parent


def schema_differences() -> list[object]:
    """What autogenerate would change to make the database match the models (types too)."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "render_as_batch": True,
                "compare_type": True,
                "include_object": search.include_object,  # the reason FTS is migration-only
            },
        )
        return list(compare_metadata(context, db.metadata))


def test_migrations_on_an_empty_database_match_the_models(
    make_database_url: Callable[..., str],
) -> None:
    url = make_database_url(migrated=False)
    # As an operator would: `flask db upgrade` with DATABASE_URL in the environment.
    env = {**os.environ, "DATABASE_URL": url, "WESOG_API_URL": "http://127.0.0.1:9"}
    command = [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    with app.app_context():
        assert schema_differences() == []
        assert {"operations", "deletion_requests", "audit_events", "users"} <= set(
            inspect(db.engine).get_table_names()
        )
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()  # and back up again: every downgrade leaves what its upgrade can redo
        assert schema_differences() == []
        db.engine.dispose()


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app) -> None:
    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
