"""Which tests run on which database engine (a pytest plugin, loaded by tests/conftest.py).

* `pytest` (or `--db=sqlite`): every test, on SQLite; `postgresql_only` tests are skipped.
* `pytest --db=postgresql` (needs WESOG_TEST_DATABASE_URL): only the tests that use a
  database through the fixtures (`database_url`, `make_database_url`, or anything built on
  them: `app`, `client`, `auth`, `runner`, `poller`, `live_server`…), minus the `sqlite_only`
  ones; the others (sandbox, HTTP client, pure units) do not depend on the engine and are
  deselected.
"""

from __future__ import annotations

import pytest

from tests.databases import ENGINE_ENV, ENGINES, URL_ENV, chosen_engine, postgres_server_url

DATABASE_FIXTURE = "test_databases"


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--db=sqlite|postgresql`: the engine the database tests run on."""
    parser.addoption(
        "--db",
        choices=ENGINES,
        default=None,
        help=f"database engine under test (default: ${ENGINE_ENV}, else sqlite); "
        f"postgresql uses the server named by ${URL_ENV} and runs only the database tests",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Settle the engine once; refuse PostgreSQL without a server to use."""
    engine = chosen_engine(config.getoption("--db"))
    config.option.db = engine
    if engine == "postgresql" and not postgres_server_url():
        raise pytest.UsageError(f"--db=postgresql needs {URL_ENV} (a postgresql+psycopg:// URL)")


def pytest_report_header(config: pytest.Config) -> str:
    """Say which engine this run tests."""
    if config.option.db == "postgresql":
        return "database engine: postgresql (only the tests that use a database)"
    return "database engine: sqlite"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the tests that belong to this engine; skip PostgreSQL-only ones on SQLite."""
    if config.option.db == "postgresql":
        kept, dropped = [], []
        for item in items:
            uses_db = DATABASE_FIXTURE in getattr(item, "fixturenames", ())
            wanted = uses_db and item.get_closest_marker("sqlite_only") is None
            (kept if wanted else dropped).append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept
        return
    skip = pytest.mark.skip(reason="PostgreSQL only: run pytest --db=postgresql (make test does)")
    for item in items:
        if item.get_closest_marker("postgresql_only") is not None:
            item.add_marker(skip)
