"""Test databases on the engine under test: SQLite files, or PostgreSQL databases.

Each test that asks for `database_url` (the `app` fixture does) gets a database with every
migration applied and no rows, on the engine chosen by `pytest --db` (default: `sqlite`, or
the environment's WESOG_TEST_ENGINE). The migrations run once per session, into a template:

* SQLite: a template file, copied per test.
* PostgreSQL (the server named by WESOG_TEST_DATABASE_URL): a template database
  `wesog_pgtest_<pid>_tpl`, and one working database cloned from it. Before each test the
  working database's other connections are ended, its rows deleted and its id sequences
  restarted (ids start at 1 again): milliseconds, where creating and dropping a database
  per test would cost a checkpoint of the whole server each time (DROP DATABASE forces one).
  `make_database_url()` still clones a database of its own (dropped after the test) for a
  test that needs a second one, or an empty one (`migrated=False`).

Test connections to PostgreSQL skip waiting for the disk at commit (synchronous_commit off:
a crash could lose the last commits, and a test database has nothing to lose).
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from wesog_dash import create_app
from wesog_dash.database import normalize_url
from wesog_dash.extensions import db

ENGINES = ("sqlite", "postgresql")
ENGINE_ENV = "WESOG_TEST_ENGINE"
URL_ENV = "WESOG_TEST_DATABASE_URL"
PG_PREFIX = "wesog_pgtest_"
NO_FSYNC_WAIT = "-c synchronous_commit=off"


def migrate_into(url: str) -> None:
    """Apply every migration to the (empty) database at `url`, as `flask db upgrade` does."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "t"})
    with app.app_context():
        upgrade()
        if db.engine.dialect.name == "sqlite":
            # Fold the WAL into the main file so that copying the file copies the schema.
            with db.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.engine.dispose()


class SqliteDatabases:
    """Fresh SQLite files, copied from one migrated template file."""

    engine = "sqlite"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.counter = itertools.count(1)
        self._template: Path | None = None

    def template(self) -> Path:
        """The migrated template file, built on first use."""
        if self._template is None:
            path = self.root / "template.db"
            migrate_into(f"sqlite:///{path}")
            self._template = path
        return self._template

    def create(self, *, migrated: bool = True) -> str:
        """The URL of a new database: migrated, or empty."""
        path = self.root / f"test-{next(self.counter)}.db"
        if migrated:
            shutil.copy(self.template(), path)
        return f"sqlite:///{path}"

    def clean(self) -> str:
        """The URL of a migrated database with no rows: a new copy of the template."""
        return self.create()

    def drop(self, url: str) -> None:
        """Remove a database made by `create` (its WAL files too)."""
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        """Nothing to do: the files live in pytest's temporary folder."""


class PostgresDatabases:
    """Databases on a PostgreSQL server: one working database emptied per test, and clones."""

    engine = "postgresql"

    def __init__(self, server_url: str) -> None:
        self.server_url = make_url(normalize_url(server_url))
        # CREATE/DROP DATABASE cannot run inside a transaction.
        self.admin: Engine = create_engine(
            self.server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        self.prefix = f"{PG_PREFIX}{os.getpid()}_"
        self.counter = itertools.count(1)
        self._template: str | None = None
        self._work: Engine | None = None
        self._reset_sql: str | None = None
        self.drop_leftovers()

    def url(self, name: str) -> str:
        """The URL of database `name` on the same server, as the same user, for a test."""
        options = " ".join(filter(None, [self.server_url.query.get("options"), NO_FSYNC_WAIT]))
        url = self.server_url.set(database=name).update_query_dict({"options": options})
        return url.render_as_string(hide_password=False)

    def _run(self, sql: str, **params: object) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(sql), params)

    def drop_leftovers(self) -> None:
        """Drop the test databases of pytest runs that died before they could (pid gone)."""
        with self.admin.connect() as connection:
            names = connection.scalars(
                text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                {"p": PG_PREFIX.replace("_", r"\_") + "%"},
            ).all()
        for name in names:
            found = re.fullmatch(rf"{PG_PREFIX}(\d+)_\w+", name)
            if found and not _alive(int(found.group(1))):
                self._run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def template(self) -> str:
        """The migrated template database's name, built on first use."""
        if self._template is None:
            name = f"{self.prefix}tpl"
            self._run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self._run(f'CREATE DATABASE "{name}" TEMPLATE template0')
            migrate_into(self.url(name))
            self._template = name
        return self._template

    def create(self, *, migrated: bool = True) -> str:
        """The URL of a new database: migrated, or empty."""
        source = self.template() if migrated else "template0"
        name = f"{self.prefix}{next(self.counter)}"
        self._run(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        return self.url(name)

    def clean(self) -> str:
        """The URL of the working database, every connection to it ended and every table empty."""
        if self._work is None:
            self._work = create_engine(self.create(), poolclass=NullPool)
        name = self._work.url.database
        self._run(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()",
            name=name,
        )
        with self._work.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '30s'"))  # fail, never hang
            connection.exec_driver_sql(self._emptying(connection))
        return self._work.url.render_as_string(hide_password=False)

    def _emptying(self, connection: Connection) -> str:
        """SQL that deletes every row (children first), restarts every id sequence and puts
        back the migration version (a test may have changed it; it is no model's table).

        DELETE, not TRUNCATE: on a few rows it costs milliseconds, where TRUNCATE makes new
        files for every table and index (ten times slower).
        """
        if self._reset_sql is None:  # read on the first use, as the template made it
            sequences = connection.scalars(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
            ).all()
            versions = connection.scalars(text("SELECT version_num FROM alembic_version")).all()
            tables = reversed(db.metadata.sorted_tables)
            statements = [f'DELETE FROM "{table.name}"' for table in tables]
            statements += [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
            statements.append("DELETE FROM alembic_version")
            statements += [f"INSERT INTO alembic_version VALUES ('{v}')" for v in versions]
            self._reset_sql = "; ".join(statements)
        return self._reset_sql

    def drop(self, url: str) -> None:
        """Drop a database made by `create`, ending whatever is still connected to it."""
        name = make_url(url).database
        assert name and name.startswith(self.prefix), name
        self._run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        """Drop the working database and the template, and let go of the server."""
        if self._work is not None:
            self._work.dispose()
            self.drop(self._work.url.render_as_string(hide_password=False))
        if self._template is not None:
            self._run(f'DROP DATABASE IF EXISTS "{self._template}" WITH (FORCE)')
        self.admin.dispose()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


Databases = SqliteDatabases | PostgresDatabases


def chosen_engine(option: str | None) -> str:
    """The engine under test: `--db`, else WESOG_TEST_ENGINE, else SQLite."""
    engine = option or os.environ.get(ENGINE_ENV) or "sqlite"
    if engine not in ENGINES:
        raise ValueError(f"unknown database engine {engine!r}: choose {' or '.join(ENGINES)}")
    return engine


def postgres_server_url() -> str | None:
    """The PostgreSQL server the tests may use, if any (WESOG_TEST_DATABASE_URL)."""
    return os.environ.get(URL_ENV) or None
