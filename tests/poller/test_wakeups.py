"""Wake-ups across processes: a deletion queued by one process starts the poller of another.

On PostgreSQL `signals.wake()` also sends NOTIFY and the polling process LISTENs; without
that, a poller in its own process (`flask wesog poll`, the production layout) would start a
bulk deletion only at its next cycle, up to a poll interval later.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import request_deletion, wait_for
from wesog_dash import create_app, signals
from wesog_dash.extensions import db
from wesog_dash.models import DeletionItem
from wesog_dash.poller import wakeups
from wesog_dash.sandbox import SandboxServer

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

ROOT = Path(__file__).resolve().parents[2]
SLOW = 60.0  # the poller's own cadence in these tests: far longer than any wait below


def another_process(app: Flask) -> Flask:
    """A second app on the same database, as a web process of its own would be."""
    return create_app({**app.config, "WESOG_POLLER": "off"})


def test_there_is_no_channel_to_listen_on_with_sqlite(app: Flask) -> None:
    """SQLite: no listener thread, no broadcast (the poller shares the web process)."""
    if wakeups.on_postgresql(app):
        pytest.skip("the SQLite case")
    stop = threading.Event()
    assert wakeups.listen(app, threading.Event(), stop) is None
    assert signals.BROADCAST not in app.extensions


@pytest.mark.postgresql_only
def test_a_wake_up_in_one_app_sets_the_event_of_a_listening_other(app: Flask) -> None:
    """NOTIFY from one app object reaches the listener of another (separate events)."""
    heard, stop = threading.Event(), threading.Event()
    thread = wakeups.listen(app, heard, stop)
    assert thread is not None
    try:
        assert wait_for(heard.is_set, timeout=10)  # set once on connecting: catch-up
        heard.clear()
        time.sleep(0.3)
        assert not heard.is_set()  # nothing happened: nothing heard
        sender = another_process(app)
        with sender.app_context():
            signals.wake()
            db.engine.dispose()
        assert wait_for(heard.is_set, timeout=10)
    finally:
        stop.set()
        thread.join(5)


@pytest.mark.postgresql_only
def test_a_poller_process_sends_a_bulk_deletion_at_once_not_at_its_next_cycle(
    app: Flask, sandbox: SandboxServer, tmp_path: Path
) -> None:
    """`flask wesog poll` with a 60 s cadence sends a deletion queued elsewhere in seconds."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "WESOG_API_URL": sandbox.url,
        "WESOG_API_KEY": sandbox.settings.api_key,
        "WESOG_POLLER": "external",
        "SECRET_KEY": "wakeups-test",
        "PYTHONUNBUFFERED": "1",
        "WESOG_POLL_INTERVAL": str(SLOW),
        "WESOG_QUEUED_POLL_INTERVAL": str(SLOW),
        "WESOG_LEASE_TTL": str(SLOW * 3),
        "WESOG_DISCOVER": "0",
    }
    log = tmp_path / "poller.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "wesog", "poll"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_for(lambda: "polling (lease holder" in log.read_text(), timeout=30)
        time.sleep(1.0)  # its first cycle is over: it now sleeps for up to SLOW / 3 s
        started = time.monotonic()
        deletion_id = request_deletion(app, ["img-0001", "img-0002"])
        assert wait_for(lambda: sent(app, deletion_id), timeout=SLOW / 6), log.read_text()
        assert time.monotonic() - started < SLOW / 6
    finally:
        proc.terminate()
        proc.wait(10)


def sent(app: Flask, deletion_id: int) -> Any:
    """Whether the deletion was sent: its items carry the operation upstream made of them."""
    with app.app_context():
        found = db.session.scalar(
            select(func.count())
            .select_from(DeletionItem)
            .where(DeletionItem.deletion_id == deletion_id, DeletionItem.op_id.is_not(None))
        )
        db.session.remove()
        return found
