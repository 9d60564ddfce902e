"""Shared fixtures: a real sandbox on loopback, an app on a migrated database, logins.

The database engine is chosen per run: `pytest` uses SQLite, `pytest --db=postgresql` the
server named by WESOG_TEST_DATABASE_URL and then runs only the tests that use a database
(see `tests/databases.py` and `tests/engines.py`).
"""

from __future__ import annotations

import copy
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from tests.databases import (
    Databases,
    PostgresDatabases,
    SqliteDatabases,
    postgres_server_url,
)
from wesog_dash import accounts, create_app, deletions
from wesog_dash.extensions import db
from wesog_dash.sandbox import SandboxServer, SandboxSettings

# The --db option, the markers and which tests each engine runs.
pytest_plugins = ("tests.engines",)

# Argon2's cheapest parameters for every app the tests start, in this process and in the servers
# and CLI processes they spawn (which inherit the environment): ~400 production-strength hashes
# cost over a minute a run. tests/accounts/test_passwords.py proves the production default.
os.environ["WESOG_PASSWORD_HASH"] = "cheapest"

TEST_PASSWORD = "correct horse battery"
# Poll intervals that let a test's poller finish sandbox operations in a few cycles.
FAST_POLLING = {"WESOG_POLL_INTERVAL": 0.05, "WESOG_QUEUED_POLL_INTERVAL": 0.05}


def deletes_received(sandbox: SandboxServer) -> int:
    """DELETE calls (batch and single) the sandbox received, counted by the sandbox itself."""
    stats = sandbox.state.stats
    return stats["DELETE /imgs"] + stats["DELETE /imgs/{image_id}"]


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll `condition` until it returns something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def cycle_until(poller: Any, condition: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Run poller cycles until `condition` holds."""
    return wait_for(lambda: (poller.run_once(), condition())[1], timeout=timeout)


@contextmanager
def engine_events(app: Flask, name: str, note: Callable[..., None]) -> Iterator[None]:
    """Call `note` on each `name` event of the app's engine (SQLAlchemy's events) meanwhile."""
    with app.app_context():
        engine = db.engine
    event.listen(engine, name, note)
    try:
        yield
    finally:
        event.remove(engine, name, note)


@contextmanager
def sql_statements(app: Flask, table: str = "") -> Iterator[list[str]]:
    """The SQL statements the app's engine runs meanwhile that name `table` (an executemany
    counts once)."""
    seen: list[str] = []
    lock = threading.Lock()

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if table in statement:
            with lock:
                seen.append(statement)

    with engine_events(app, "before_cursor_execute", note):
        yield seen


def request_deletion(
    app: Flask,
    ids: list[str],
    reason: str = "takedown notice",
    *,
    selection_id: int | None = None,
    kind: str = "single",
    query: str | None = None,
    send_inline: bool = True,
    **options: Any,
) -> int:
    """Ask for a deletion as a view would, through the service (actor alice); returns its id.

    `options` are `deletions.DeletionOptions` fields; with `selection_id` the ids are that
    stored selection's (`ids` is ignored).
    """
    chosen = deletions.DeletionOptions(reason, **options)
    who = deletions.Requester("alice", None, "127.0.0.1")
    with app.app_context():
        if selection_id is not None:
            return deletions.request_selected(selection_id, chosen, who).id
        deletion = deletions.request_deletion(
            ids, chosen, who, kind=kind, query=query, send_inline=send_inline
        )
        return deletion.id


def create_user(app: Flask, username: str, role: str, password: str = TEST_PASSWORD) -> Any:
    """Create a console user through the accounts service (actor cli:test); returns it."""
    with app.app_context():
        return accounts.create_user(username, password, role, actor="cli:test")


# Both dialects of the sandbox: a module marked `pytestmark = pytest.mark.both_dialects` runs
# each of its tests that uses the sandbox against each (the `dialect` fixture is the default).
DIALECTS = ("sandbox", "reference")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run `both_dialects` tests that reach the sandbox once per dialect."""
    marked = metafunc.definition.get_closest_marker("both_dialects") is not None
    if marked and "dialect" in metafunc.fixturenames:
        metafunc.parametrize("dialect", DIALECTS)


@pytest.fixture
def dialect() -> str:
    """The sandbox's dialect: its own conveniences, or only what the API reference documents."""
    return "sandbox"


@pytest.fixture
def sandbox_settings(dialect: str) -> SandboxSettings:
    """Small and quick sandbox settings; a test may change them before `sandbox` starts."""
    return SandboxSettings(
        api_key="test-key-5f3a", images=60, item_ms=20, start_ms=20, dialect=dialect
    )


@pytest.fixture
def sandbox(sandbox_settings: SandboxSettings) -> Iterator[SandboxServer]:
    """A real Wesog sandbox on a free loopback port.

    It runs on a copy of the settings: a parametrized settings object is one object for every
    test that names it, and the sandbox uses up its one-shot counters (`late_answer`, ...), so
    without the copy only the first of those tests would get them.
    """
    server = SandboxServer(copy.deepcopy(sandbox_settings), host="127.0.0.1", port=0).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def test_databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    """Where test databases come from, on the engine under test (`pytest --db`)."""
    if request.config.getoption("--db") == "postgresql":
        made: Databases = PostgresDatabases(postgres_server_url() or "")
    else:
        made = SqliteDatabases(tmp_path_factory.mktemp("databases"))
    yield made
    made.close()


@pytest.fixture
def make_database_url(test_databases: Databases) -> Iterator[Callable[..., str]]:
    """Make fresh databases (`make(migrated=False)` for an empty one); dropped after the test."""
    made: list[str] = []

    def make(*, migrated: bool = True) -> str:
        made.append(test_databases.create(migrated=migrated))
        return made[-1]

    yield make
    for url in made:
        test_databases.drop(url)


@pytest.fixture
def database_url(test_databases: Databases) -> str:
    """A migrated database with no rows for this test alone, on the engine under test."""
    return test_databases.clean()


@pytest.fixture(scope="session")
def migrated_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file to copy: SQLite only, so prefer `database_url`."""
    return SqliteDatabases(tmp_path_factory.mktemp("template")).template()


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Extra configuration for the `app` fixture; tests override this fixture to change it."""
    return {}


@pytest.fixture
def app(
    sandbox: SandboxServer, database_url: str, app_overrides: dict[str, Any]
) -> Iterator[Flask]:
    """The dashboard on a migrated database of its own, talking to the sandbox over HTTP."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WESOG_API_URL": sandbox.url,
        "WESOG_API_KEY": sandbox.settings.api_key,
        "WESOG_POLLER": "off",
        "WESOG_READ_TIMEOUT": 5.0,
        "WESOG_LOGIN_THROTTLE": False,
        "WESOG_UNDO_SECONDS": 0,  # deletions are sent at once unless a test asks for a window
        # Polls read fresh markers, so a test sees a change at once; test_idle_polls proves the
        # marker memory with its own setting.
        "WESOG_MARKER_CACHE_SECONDS": 0,
    }
    config.update(app_overrides)
    app = create_app(config)
    yield app
    app.extensions["wesog_upstream"].close()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def poller(app: Flask) -> Iterator[Any]:
    """A poller on the test app (the app itself runs none: WESOG_POLLER=off); call run_once()."""
    from wesog_dash.poller import Poller

    instance = Poller(app)
    yield instance
    instance.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client (cookies kept between requests)."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    """A CLI runner for `flask …` commands."""
    return app.test_cli_runner()


def csrf_token_from(html: str) -> str:
    """The CSRF token a page carries in its meta tag or a hidden field."""
    found = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html
    )
    assert found, "page carries no CSRF token"
    return found.group(1)


class AuthActions:
    """Create users and log in through the real /login form."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app = app
        self.client = client

    def create_user(self, username: str, role: str, password: str = TEST_PASSWORD) -> None:
        """Create a user directly through the accounts service."""
        create_user(self.app, username, role, password)

    def login(self, role: str = "operator", username: str | None = None) -> str:
        """Create (if needed) and log in a user with `role`; returns the CSRF token."""
        username = username or f"{role}-user"
        with self.app.app_context():
            if accounts.find_user(username) is None:
                self.create_user(username, role)
        token = csrf_token_from(self.client.get("/login").get_data(as_text=True))
        response = self.client.post(
            "/login",
            data={"username": username, "password": TEST_PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return self.csrf_token()

    def csrf_token(self) -> str:
        """A CSRF token valid for the current session."""
        return csrf_token_from(self.client.get("/").get_data(as_text=True))

    def logout(self) -> None:
        """Log out through the real POST."""
        self.client.post("/logout", data={"csrf_token": self.csrf_token()})


@pytest.fixture
def auth(app: Flask, client: FlaskClient) -> AuthActions:
    """Login helper bound to `client`."""
    return AuthActions(app, client)
