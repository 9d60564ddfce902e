"""The engines a benchmark measures: SQLite always, then PostgreSQL when DATABASE_URL names one.

A PostgreSQL run never touches the database DATABASE_URL names: it creates a database of its
own on the same server (`wesog_bench_<pid>_<n>`, so the user needs CREATEDB) and drops it
afterwards. Compare the two engines within one run: the machine is shared.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from _support import ROOT  # noqa: F401  (puts the project on sys.path)
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from wesog_dash.database import normalize_url

_COUNTER = itertools.count(1)


def postgresql_url() -> str | None:
    """DATABASE_URL when it names a PostgreSQL server, else None."""
    url = normalize_url(os.environ.get("DATABASE_URL", ""))
    return url if url.startswith("postgresql") else None


def engines() -> list[str]:
    """The engines to measure, in order."""
    return ["sqlite", "postgresql"] if postgresql_url() else ["sqlite"]


@contextmanager
def fresh_database(engine: str) -> Iterator[str]:
    """The URL of a new empty database on `engine`, removed afterwards."""
    if engine == "sqlite":
        folder = tempfile.mkdtemp(prefix="wesog-bench-")
        try:
            yield f"sqlite:///{folder}/bench.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    server = make_url(postgresql_url() or "")
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"wesog_bench_{os.getpid()}_{next(_COUNTER)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
