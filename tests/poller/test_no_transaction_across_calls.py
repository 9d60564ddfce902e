"""No transaction of the poller or the dispatcher stays open across an upstream call.

Every HTTP call to the API is checked as it goes out: the calling thread must hold no
database connection inside a transaction (`transactions.TransactionWatch`). A transaction
held while waiting for the network would keep its locks (the lease row's, the rows it wrote)
for as long as the API takes, and PostgreSQL ends poller transactions left idle that long.
On PostgreSQL any open transaction counts; on SQLite only one that wrote (a read there takes
no lock, and the driver begins no transaction for it).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import FAST_POLLING, cycle_until, request_deletion
from tests.poller.transactions import TransactionWatch
from wesog_dash.extensions import db
from wesog_dash.models import FINAL_DELETION_STATES, DeletionRequest
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer, SandboxSettings

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    """Quick operations."""
    return SandboxSettings(api_key="test-key-5f3a", images=40, item_ms=5, start_ms=5)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling, small chunks (several DELETE calls per request), little room in flight."""
    return {**FAST_POLLING, "WESOG_CHUNK_SIZE": 2, "WESOG_MAX_INFLIGHT_OPS": 2}


def finished(app: Flask, deletion_ids: list[int]) -> bool:
    with app.app_context():
        states = db.session.scalars(
            select(DeletionRequest.state).where(DeletionRequest.id.in_(deletion_ids))
        ).all()
        db.session.rollback()
    return all(state in FINAL_DELETION_STATES for state in states)


def test_no_upstream_call_of_the_poller_is_made_inside_a_transaction(
    app: Flask, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [image.image_id for image in sandbox.state.ordered_images()]
    watch = TransactionWatch()
    with app.app_context():
        watch.attach(db.engine, monkeypatch)
    deletion_ids = [
        request_deletion(app, ids[0:7]),  # bulk, in chunks of 2, waiting for room in flight
        request_deletion(app, ids[7:10], wait=True),  # wait=true: a long send of its own
        request_deletion(app, [ids[10]], send_inline=False),  # one id, left to the dispatcher
        request_deletion(app, ["no-such-image", ids[11]]),  # one the API does not know
        request_deletion(app, ids[12:14], undo_seconds=0.2),  # an undo window first
    ]
    poller = Poller(app)
    try:
        cycle_until(poller, lambda: finished(app, deletion_ids), timeout=60)
    finally:
        poller.close()
    sent = sandbox.state.stats
    assert sent["DELETE /imgs"] >= 6 and sent["GET /ops"] + sent["GET /ops/{op_id}"] > 0
    assert watch.calls >= 10
    assert watch.violations == [], "\n".join(watch.violations)
