"""One poller, provably: the lease is renewed inside long cycles, and a poller that lost it
(paused past its TTL while another took over) writes nothing and calls nothing upstream."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from tests.conftest import FAST_POLLING, wait_for
from wesog_dash import operations
from wesog_dash.extensions import db
from wesog_dash.models import Lease, Operation, utcnow
from wesog_dash.poller import LEASE_NAME, Poller
from wesog_dash.sandbox import SandboxServer
from wesog_dash.upstream import upstream

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

POLL = "GET /ops/{op_id}"


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """One poll at a time, so a cycle's polls follow each other in a known order; one by id
    (a list page of one operation never beats that; no discovery), as these tests count them."""
    return {
        **FAST_POLLING,
        "WESOG_POLL_CONCURRENCY": 1,
        "WESOG_LIST_PAGE_SIZE": 1,
        "WESOG_DISCOVER": False,
    }


def track_ops(app: Flask, count: int) -> list[int]:
    """`count` operations started upstream by someone else, tracked (due at once)."""
    client = upstream(app).client()
    op_ids = [client.delete_image(f"1000{n:02d}").op_id for n in range(count)]
    with app.app_context():
        for op_id in op_ids:
            assert op_id is not None
            operations.track(op_id, actor="alice")
    return [op_id for op_id in op_ids if op_id is not None]


def polled(app: Flask, op_ids: list[int]) -> list[bool]:
    """Whether each operation row holds a fetched snapshot."""
    with app.app_context():
        rows = [db.session.get(Operation, op_id) for op_id in op_ids]
        return [row is not None and row.last_polled_at is not None for row in rows]


def test_a_poller_that_lost_the_lease_mid_cycle_writes_nothing_and_calls_nothing(
    app: Flask, sandbox: SandboxServer
) -> None:
    op_ids = track_ops(app, 3)
    first, second = Poller(app, lease_ttl=10.0), Poller(app, lease_ttl=10.0)
    sandbox.settings.latency_ms = 800  # every poll hangs; the first is in flight below
    sandbox.state.reset_stats()
    cycle = threading.Thread(target=first.run_once)
    cycle.start()
    try:
        wait_for(lambda: sandbox.state.stats[POLL] == 1)  # first poll in flight
        old_generation = first.lease.generation
        with app.app_context():  # the first poller is paused past its TTL ...
            db.session.execute(
                update(Lease)
                .where(Lease.name == LEASE_NAME)
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
            db.session.commit()
            assert second.lease.acquire()  # ... and the second takes over
        assert second.lease.generation == (old_generation or 0) + 1
    finally:
        cycle.join(10)
    assert sandbox.state.stats[POLL] == 1  # nothing more was sent by the first
    assert polled(app, op_ids) == [False, False, False]  # its pending write was refused
    assert not first.holding
    sandbox.settings.latency_ms = 0
    second.run_once()  # the new holder works normally
    assert polled(app, op_ids) == [True, True, True]
    assert sandbox.state.stats[POLL] == 4
    first.close(), second.close()


def test_the_lease_is_renewed_while_a_long_cycle_runs(app: Flask, sandbox: SandboxServer) -> None:
    op_ids = track_ops(app, 4)
    first, second = Poller(app, lease_ttl=1.0), Poller(app, lease_ttl=1.0)
    sandbox.settings.latency_ms = 400  # four polls one after the other: a 1.6 s cycle
    cycle = threading.Thread(target=first.run_once)
    cycle.start()
    try:
        wait_for(lambda: sandbox.state.stats[POLL] >= 4)  # 1.2 s in: past the first TTL
        with app.app_context():
            assert not second.lease.acquire()  # still held: renewed during the cycle
    finally:
        cycle.join(10)
    assert polled(app, op_ids) == [True, True, True, True]
    first.close(), second.close()
