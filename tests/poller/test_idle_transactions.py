"""PostgreSQL ends a poller's transaction left idle (a frozen process), so a stand-by takes
over, and the woken holder stops cleanly: no write, no upstream call, no traceback.

A frozen holder is played in-process: a poller task takes the same lock on the lease row as
the fence's FOR SHARE read at a commit, then waits (the process "stopped") until released.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from tests.conftest import wait_for
from wesog_dash.extensions import db
from wesog_dash.metrics.periods import epoch_minute
from wesog_dash.metrics.rollups import upsert
from wesog_dash.models import Lease, metric_minutes, utcnow
from wesog_dash.poller import Poller, end_frozen_transactions
from wesog_dash.sandbox import SandboxServer
from wesog_dash.upstream import wesog_client

pytestmark = pytest.mark.postgresql_only

TTL = 1.5  # the idle and lock timeouts are a third of it: 0.5 s


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """A short lease, so that the takeover comes soon."""
    return {"WESOG_LEASE_TTL": TTL}


def backend_alive(app: Flask, pid: int) -> bool:
    """Is the PostgreSQL backend `pid` still connected (seen from another connection)?"""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    with engine.connect() as connection:
        found = connection.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
        )
    engine.dispose()
    return bool(found)


def test_a_transaction_left_idle_on_a_poller_connection_is_ended_by_the_server(
    app: Flask,
) -> None:
    with app.app_context():
        assert db.session.scalar(text("SHOW idle_in_transaction_session_timeout")) == "0"
        db.session.rollback()  # a web process's connections: no limit
    assert end_frozen_transactions(app) == pytest.approx(TTL / 3)
    with app.app_context():
        assert db.session.scalar(text("SHOW idle_in_transaction_session_timeout")) == "500ms"
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))  # a transaction is open now
        wait_for(lambda: not backend_alive(app, pid))  # ended by the server, not by us
        with pytest.raises(DBAPIError) as ended:
            db.session.execute(text("SELECT 1"))
        assert ended.value.connection_invalidated
        db.session.rollback()
        assert db.session.scalar(text("SELECT 1")) == 1  # the pool hands out a new connection


def frozen_task(
    method: str, entered: threading.Barrier, woken: threading.Event, after: Callable[[], Any]
) -> Callable[[], None]:
    """A poller task that writes, locks the lease row as the fence does, then "stops"."""

    def task() -> None:
        upsert(method, epoch_minute(utcnow()), {"items_good": 1})  # a write of the holder
        db.session.execute(select(Lease.name).with_for_update(read=True))  # the fence's lock
        entered.wait(10)
        woken.wait(30)  # SIGSTOP … SIGCONT: the transaction idles meanwhile
        after()

    return task


def test_a_holder_frozen_holding_the_lease_row_is_taken_over_and_wakes_cleanly(
    app: Flask, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    end_frozen_transactions(app)
    first, second = Poller(app, lease_ttl=TTL), Poller(app, lease_ttl=TTL)
    caplog.set_level(logging.INFO, logger="wesog_dash.poller")
    entered, woken = threading.Barrier(3), threading.Event()
    with app.app_context():
        assert first.lease.acquire()
        old_generation = first.lease.generation
    tasks = [  # woken, one commits its write, the other first calls the API
        frozen_task("del", entered, woken, db.session.commit),
        frozen_task("upd", entered, woken, lambda: wesog_client().list_operations()),
    ]
    threads = [threading.Thread(target=first._in_context, args=(t,)) for t in tasks]
    for thread in threads:
        thread.start()
    try:
        entered.wait(10)  # both hold the lock on the lease row now, and stay still
        with app.app_context():
            # The lease runs out and the stand-by takes it: a takeover that waits on the lock
            # gives up after the lock timeout, until PostgreSQL has ended the frozen sessions.
            wait_for(second.lease.acquire, timeout=15, interval=0.1)
        assert second.lease.generation == (old_generation or 0) + 1
        calls = sum(sandbox.state.stats.values())
    finally:
        woken.set()
        for thread in threads:
            thread.join(30)
    assert sum(sandbox.state.stats.values()) == calls  # the woken holder called nothing
    assert first.run_once() == 0 and not first.holding  # its next cycle stands by
    assert first.status().startswith("standing by")
    assert sum(sandbox.state.stats.values()) == calls
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(metric_minutes)) == 0
    said = [r.getMessage() for r in caplog.records if r.name.startswith("wesog_dash.poller")]
    assert any("the database ended this poller's connection" in line for line in said), said
    assert any("the lease was lost" in line for line in said), said
    assert [r for r in caplog.records if r.exc_info] == []  # logged, not crashed
    first.close(), second.close()
