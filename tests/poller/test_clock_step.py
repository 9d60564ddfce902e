"""The process's wall clock stepped an hour forward or back while the console runs: no
operation is flagged stale or lost, none stops being polled, no deletion is reconciled or
sent early (or an hour late), and the lease stays single (`wesog_dash/clock.py`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.conftest import FAST_POLLING, cycle_until, wait_for
from tests.conftest import request_deletion as request
from wesog_dash import clock, operations
from wesog_dash.extensions import db
from wesog_dash.models import DeletionRequest, Operation
from wesog_dash.poller import Poller
from wesog_dash.poller.lease import LeaseKeeper
from wesog_dash.sandbox import SandboxServer
from wesog_dash.upstream import upstream

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

HOUR = 3600.0
STEPS = pytest.mark.parametrize("step", [HOUR, -HOUR], ids=["forward", "back"])
GRACE = 5.0  # seconds of reconcile grace and of undo window
UNKNOWN_OP = 987653


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling; a minute before stale or lost; a few seconds of grace."""
    return {
        **FAST_POLLING,
        "WESOG_POLL_MAX_BACKOFF": 0.5,
        "WESOG_STALE_AFTER": 60.0,
        "WESOG_LOST_AFTER": 60.0,
        "WESOG_RECONCILE_GRACE": GRACE,
    }


@pytest.fixture(autouse=True)
def wall_put_back() -> Iterator[None]:
    """Every test leaves the wall clock as it found it."""
    yield
    clock.set_wall_step(0)


def op_row(app: Flask, op_id: int) -> Operation:
    """A detached copy of an operation row."""
    with app.app_context():
        row = db.session.get(Operation, op_id)
        assert row is not None
        db.session.expunge(row)
        return row


def deletion_state(app: Flask, deletion_id: int) -> str:
    """The request's current state."""
    with app.app_context():
        deletion = db.session.get(DeletionRequest, deletion_id)
        assert deletion is not None
        return deletion.state


@STEPS
def test_a_stepped_wall_clock_flags_no_operation_stale_or_lost(
    app: Flask, sandbox: SandboxServer, poller: Poller, step: float
) -> None:
    sandbox.settings.hold = True  # queued upstream, no progress until let go
    op_id = upstream(app).client().delete_images(["100041", "100042"]).op_id
    assert op_id is not None
    with app.app_context():
        operations.track(op_id, actor="alice")
        operations.track(UNKNOWN_OP, actor="alice")  # the API answers 404 for it
    cycle_until(poller, lambda: op_row(app, UNKNOWN_OP).state == "missing")
    asked = op_row(app, UNKNOWN_OP).poll_failures

    clock.set_wall_step(step)
    # Both are still asked about (not an hour from now), and neither is judged by the step.
    cycle_until(poller, lambda: op_row(app, UNKNOWN_OP).poll_failures >= asked + 3)
    assert op_row(app, op_id).state == "queued"  # not stale
    assert op_row(app, UNKNOWN_OP).state == "missing"  # not lost
    sandbox.settings.hold = False
    cycle_until(poller, lambda: op_row(app, op_id).state == "finished", timeout=30)
    assert op_row(app, UNKNOWN_OP).state == "missing"


@STEPS
def test_a_stepped_wall_clock_reconciles_no_deletion_early_or_late(
    app: Flask, sandbox: SandboxServer, poller: Poller, step: float
) -> None:
    sandbox.settings.reset_before_create = 1  # the DELETE's answer is lost: in doubt
    deletion_id = request(app, ["100043", "100044"])
    cycle_until(poller, lambda: deletion_state(app, deletion_id) == "unknown")
    in_doubt_at = time.monotonic()

    clock.set_wall_step(step)
    poller.run_once()
    poller.run_once()
    if time.monotonic() - in_doubt_at < GRACE - 1:  # a loaded machine may be past the grace
        assert deletion_state(app, deletion_id) == "unknown"  # not reconciled early
    cycle_until(poller, lambda: deletion_state(app, deletion_id) == "rejected", timeout=30)
    assert sandbox.state.stats["DELETE /imgs"] == 1  # never sent again


@STEPS
def test_a_stepped_wall_clock_ends_no_undo_window_early_or_late(
    app: Flask, sandbox: SandboxServer, poller: Poller, step: float
) -> None:
    deletion_id = request(app, ["100045", "100046"], undo_seconds=GRACE)
    requested_at = time.monotonic()

    clock.set_wall_step(step)
    poller.run_once()
    poller.run_once()
    if time.monotonic() - requested_at < GRACE - 1:
        assert deletion_state(app, deletion_id) == "scheduled"  # still undoable
        assert sandbox.state.stats["DELETE /imgs"] == 0
    cycle_until(poller, lambda: deletion_state(app, deletion_id) == "done", timeout=30)
    assert sandbox.state.stats["DELETE /imgs"] == 1


@STEPS
def test_a_stepped_wall_clock_keeps_the_lease_single(app: Flask, step: float) -> None:
    with app.app_context():
        holder, other = LeaseKeeper("host-a", ttl=1.0), LeaseKeeper("host-b", ttl=1.0)
        assert holder.acquire()
        clock.set_wall_step(step)
        assert not other.acquire()  # the live lease is not taken
        assert holder.check()
        # The holder dies (renews no more): the stand-by takes over within the TTL, not an
        # hour late.
        wait_for(other.acquire, timeout=10, interval=0.1)
        assert not holder.check()
