"""Many writers at once, in several processes, still make one chain (PostgreSQL's row locks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from wesog_dash import create_app
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

ROOT = Path(__file__).resolve().parents[2]
PROCESSES, THREADS, PER_THREAD = 2, 8, 125  # 2,000 events


def flask_env(url: str) -> dict[str, str]:
    """The environment of a `flask --app app …` command on the database at `url`."""
    env = {**os.environ, "DATABASE_URL": url, "WESOG_POLLER": "off"}
    env["WESOG_API_URL"] = "http://127.0.0.1:9"
    return env


@pytest.mark.postgresql_only
def test_two_processes_of_eight_threads_write_one_verifiable_chain(database_url: str) -> None:
    command = [sys.executable, "-m", "tests.audit.writers", database_url]
    writers = [
        subprocess.Popen(
            [*command, f"p{n}", str(THREADS), str(PER_THREAD)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    outputs = [writer.communicate(timeout=240) for writer in writers]
    assert all(w.returncode == 0 for w in writers), [err[-2000:] for _, err in outputs]
    assert sum(int(out) for out, _ in outputs) == PROCESSES * THREADS * PER_THREAD

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x"})
    with app.app_context():
        # A fork would show as two events chained to the same predecessor.
        query = select(func.count(), func.count(func.distinct(AuditEvent.prev_hash)))
        assert db.session.execute(query).one() == (2000, 2000)
        db.engine.dispose()

    verified = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "audit", "verify"],
        cwd=ROOT,
        env=flask_env(database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("chain intact: 2000 events"), verified.stdout
