"""Rollups kept by the poller: exact after a restart, after `audit prune`, and when rebuilt."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import FAST_POLLING, wait_for
from wesog_dash import deletions, metrics
from wesog_dash.audit import chain as audit_chain
from wesog_dash.extensions import db
from wesog_dash.models import DeletionRequest, Operation, utcnow
from wesog_dash.poller import Poller

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

HOUR = metrics.period_named("hour")


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling."""
    return dict(FAST_POLLING)


@pytest.fixture
def sandbox_settings():
    """Slow enough items that a poller can be stopped mid-operation."""
    from wesog_dash.sandbox import SandboxSettings

    return SandboxSettings(api_key="test-key-5f3a", images=60, item_ms=60, start_ms=20)


def truth(app: Flask) -> tuple[int, int, int]:
    """Finished operations and their good/bad items, straight from the operations table."""
    with app.app_context():
        finished = select(
            func.count(), func.sum(Operation.num_good), func.sum(Operation.num_bad)
        ).where(Operation.is_finished.is_(True))
        count, good, bad = db.session.execute(finished).one()
        return count, int(good or 0), int(bad or 0)


def counted(app: Flask) -> tuple[int, int, int, int]:
    """What the rollups say for the last hour (and the images deleted by the console)."""
    with app.app_context():
        c = metrics.counters(HOUR, utcnow())
        return c.ops_finished, c.items_good, c.items_bad, c.console_deleted


def delete(app: Flask, ids: list[str]) -> int:
    """A deletion request through the service."""
    with app.app_context():
        deletion = deletions.request_deletion(
            ids, deletions.DeletionOptions("metrics test"), deletions.Requester("alice")
        )
        return deletion.id


def settled(app: Flask, deletion_id: int) -> bool:
    with app.app_context():
        row = db.session.get(DeletionRequest, deletion_id)
        return row is not None and row.state in ("done", "done_with_errors")


def test_rollups_stay_exact_across_a_poller_restart_and_an_audit_prune(app: Flask) -> None:
    ids = [str(100001 + n) for n in range(12)]  # seeded images: deleted, not "not found"
    first = delete(app, ids[:8])
    poller = Poller(app)
    # Stop the poller while the operation is part done: a new one takes over (restart).
    wait_for(lambda: (poller.run_once(), counted(app)[1] >= 2)[1], timeout=15)
    poller.close()
    restarted = Poller(app)
    try:
        second = delete(app, ids[8:])
        wait_for(lambda: (restarted.run_once(), settled(app, first) and settled(app, second))[1])
    finally:
        restarted.close()
    ops, good, bad = truth(app)
    assert (ops, good, bad) == (2, 12, 0)
    assert counted(app) == (2, 12, 0, 12)
    with app.app_context():
        audit_chain.prune(utcnow() + timedelta(days=1), actor="cli:test")  # every event goes
    assert counted(app) == (2, 12, 0, 12)
    with app.app_context():
        rebuilt = metrics.rebuild()
        assert rebuilt.operations == 2
    assert counted(app) == (2, 12, 0, 12)


def test_rebuild_gives_the_same_rollups_as_the_live_path(app: Flask, runner) -> None:
    from tests.metrics.helpers import done, snapshot, store

    with app.app_context():
        store(snapshot(1, num_total=4, num_good=1, is_started=True))
        store(done(1, "del", good=3, bad=1, idle=40, run=900))
        store(done(2, "upd", good=0, bad=2, idle=3000, run=20, ago=7200))
        store(snapshot(3, num_total=9, num_good=4, num_bad=2, is_started=True))
        live = metrics.overview(metrics.period_named("day"), utcnow())
    result = runner.invoke(args=["metrics", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "from 3 operations" in result.output
    with app.app_context():
        again = metrics.overview(metrics.period_named("day"), utcnow())
    assert again.counters == live.counters
    assert again.buckets == live.buckets
    assert live.counters.ops_finished == 2 and live.counters.items == 4 + 2 + 6
