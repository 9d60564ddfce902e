"""PostgreSQL really restarted in the middle of a deletion: a server of the test's own is
stopped (`pg_ctl stop -m fast`, as `pg_ctlcluster … restart` does) while a chunk's answer is
on its way back, then started again. Pages answer 503 with a sentence
while it is down; the console, never restarted, ends the deletion as the API did — 0 lost,
0 sent twice, 0 false (the same verdict as the cut proxy of test_postgres_outage.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from tests.conftest import AuthActions
from tests.databases import Databases, PostgresDatabases
from tests.faults.conftest import Harness
from tests.faults.private_postgres import PrivateCluster, unavailable

# With the cut test's fixtures, found by pytest under their names: late API answers (time to
# stop the server while one is on its way), chunks of 2, quick cycles, no reconcile grace.
from tests.faults.test_postgres_outage import (  # noqa: F401
    app_overrides,
    away_mid_deletion,
    sandbox_settings,
)

pytestmark = pytest.mark.postgresql_only

WHY_NOT = unavailable()


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    """A PostgreSQL server of this module's own, running."""
    if WHY_NOT:
        pytest.skip(f"no private PostgreSQL server to restart: {WHY_NOT}")
    server = PrivateCluster()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="module")
def private_databases(cluster: PrivateCluster) -> Iterator[PostgresDatabases]:
    """Migrated databases made on the private server."""
    databases = PostgresDatabases(cluster.url)
    yield databases
    databases.close()


@pytest.fixture
def database_url(
    cluster: PrivateCluster, private_databases: PostgresDatabases, test_databases: Databases
) -> str:
    """A migrated database on the private server (started again if a test left it down).

    `test_databases` (the shared server's) is not used: asking for it is what tells
    tests/engines.py that this test uses a database, so the PostgreSQL leg keeps it.
    """
    cluster.start_if_stopped()
    return private_databases.create(migrated=True)


# The other moment, before a chunk, is met by the cut proxy (test_postgres_outage.py).
@pytest.mark.parametrize("moment", ["answer on its way"])
def test_postgresql_restarted_mid_deletion(
    client: FlaskClient,
    auth: AuthActions,
    harness: Harness,
    cluster: PrivateCluster,
    caplog: pytest.LogCaptureFixture,
    moment: str,
) -> None:
    auth.login("operator")
    away_mid_deletion(client, harness, caplog, moment, cluster.stop, cluster.start)
