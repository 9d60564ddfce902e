"""Which tests run on which database engine (a pytest plugin, loaded by tests/conftest.py).

* `pytest` (or `--db=sqlite`): every test, on SQLite; `postgresql_only` tests are skipped.
* `pytest --db=postgresql` (needs WESOG_TEST_DATABASE_URL): only the tests whose result can
  depend on the engine: those marked `dialect` (or `postgresql_only`) that use a database
  through the fixtures (`database_url`, `make_database_url`, or anything built on them: `app`,
  `client`, `auth`, `runner`, `poller`, `live_server`…), minus the `sqlite_only` ones. Pages,
  the CLI and the browser run the same SQL through the same services on either engine, so
  they run once, on SQLite; tests/test_engine_coverage.py checks that every package that
  touches the database still has a `dialect` test module.
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
        return "database engine: postgresql (only the tests marked dialect)"
    return "database engine: sqlite"


def depends_on_dialect(item: pytest.Item) -> bool:
    """Whether the test is marked as one whose result can depend on the database engine."""
    return any(item.get_closest_marker(name) for name in ("dialect", "postgresql_only"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the tests that belong to this engine; skip PostgreSQL-only ones on SQLite."""
    if config.option.db == "postgresql":
        kept, dropped = [], []
        for item in items:
            uses_db = DATABASE_FIXTURE in getattr(item, "fixturenames", ())
            wanted = (
                uses_db
                and depends_on_dialect(item)
                and item.get_closest_marker("sqlite_only") is None
            )
            (kept if wanted else dropped).append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept
        return
    skip = pytest.mark.skip(reason="PostgreSQL only: run pytest --db=postgresql (make test does)")
    for item in items:
        if item.get_closest_marker("postgresql_only") is not None:
            item.add_marker(skip)
