"""The poller against the real sandbox: sole fetcher, back-off, Retry-After, lease, restart."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from tests.conftest import FAST_POLLING, cycle_until, wait_for
from tests.conftest import request_deletion as request
from wesog_dash import create_app, deletions, operations
from wesog_dash import runner as poller_runner
from wesog_dash.extensions import db
from wesog_dash.models import DeletionRequest, Lease, Operation, utcnow
from wesog_dash.operations import OpFilters
from wesog_dash.poller import LEASE_NAME, Poller
from wesog_dash.sandbox import SandboxServer
from wesog_dash.upstream import upstream

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

FAST = {**FAST_POLLING, "WESOG_POLL_MAX_BACKOFF": 5.0, "WESOG_RECONCILE_GRACE": 0.0}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling."""
    return dict(FAST)


def deletion_state(app: Flask, deletion_id: int) -> str:
    """The request's current state."""
    with app.app_context():
        deletion = db.session.get(DeletionRequest, deletion_id)
        assert deletion is not None
        return deletion.state


def op_row(app: Flask, op_id: int) -> Operation:
    """A detached copy of an operation row."""
    with app.app_context():
        row = db.session.get(Operation, op_id)
        assert row is not None
        db.session.expunge(row)
        return row


def tracked(app: Flask, image_ids: list[str]) -> int:
    """An operation started upstream by someone else, then tracked; returns its op_id."""
    op_id = upstream(app).client().delete_images(image_ids).op_id
    assert op_id is not None
    with app.app_context():
        operations.track(op_id, actor="alice")
    return op_id


def status_reads(sandbox: SandboxServer) -> int:
    """Upstream reads of operation status: one by id, or pages of the list."""
    return sandbox.state.stats["GET /ops/{op_id}"] + sandbox.state.stats["GET /ops"]


def test_only_the_poller_fetches_operation_status(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(app, ["100001"])
    with app.app_context():
        [item] = deletions.items_of(deletion_id)
        row = operations.load_operation(item.op_id or 0)
        assert row is not None
        operations.progress(row)
        operations.load_operations(OpFilters(), page=1)
        operations.running_count()
    assert status_reads(sandbox) == 0
    assert wait_for(poller.run_once) >= 1
    assert status_reads(sandbox) >= 1


def test_poll_errors_back_off_exponentially_then_recover(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    sandbox.settings.start_ms = 60_000  # keep it unfinished
    op_id = tracked(app, ["100002"])
    sandbox.settings.rate_5xx = 1.0

    def delay_after(failures: int) -> float:
        row = cycle_until(poller, lambda: (r := op_row(app, op_id)).poll_failures >= failures and r)
        assert row.next_poll_at and row.last_polled_at
        return (row.next_poll_at - row.last_polled_at).total_seconds()

    first, second = delay_after(1), delay_after(2)
    assert second > first
    row = op_row(app, op_id)
    assert row.last_poll_error and "503" in row.last_poll_error
    assert sandbox.settings.api_key not in row.last_poll_error

    sandbox.settings.rate_5xx = 0.0
    recovered = cycle_until(
        poller, lambda: (r := op_row(app, op_id)).poll_failures == 0 and r, timeout=20
    )
    assert recovered.last_poll_error is None and recovered.state == "queued"


def test_retry_after_of_a_429_delays_the_next_poll(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    sandbox.settings.start_ms = 60_000
    op_id = tracked(app, ["100003"])
    sandbox.settings.retry_after = 1  # far above the 0.1 s back-off of a first failure
    sandbox.settings.rate_429 = 1.0
    row = cycle_until(poller, lambda: (r := op_row(app, op_id)).poll_failures >= 1 and r)
    assert row.next_poll_at and row.last_polled_at
    assert row.next_poll_at >= row.last_polled_at + timedelta(seconds=1)
    assert row.last_poll_error and "Rate limited" in row.last_poll_error


def test_retry_after_of_a_429_delays_the_next_send(app: Flask, sandbox: SandboxServer) -> None:
    sandbox.settings.retry_after = 3
    sandbox.settings.rate_429 = 1.0
    before = utcnow()
    deletion_id = request(app, ["100004"])
    with app.app_context():
        deletion = db.session.get(DeletionRequest, deletion_id)
        assert deletion is not None and deletion.state == "pending"
        assert deletion.next_attempt_at and deletion.next_attempt_at >= before + timedelta(
            seconds=3
        )


def expire_lease(app: Flask) -> None:
    """As if its holder stopped renewing it long ago."""
    with app.app_context():
        past = utcnow() - timedelta(seconds=1)
        db.session.execute(update(Lease).where(Lease.name == LEASE_NAME).values(expires_at=past))
        db.session.commit()


def test_second_poller_stands_by_while_the_lease_is_held_then_takes_over(
    app: Flask, sandbox: SandboxServer
) -> None:
    first, second = Poller(app), Poller(app)
    try:
        first.run_once()
        assert first.holding
        tracked(app, ["100005"])
        sandbox.state.reset_stats()
        assert second.run_once() == 0 and not second.holding
        assert second.lease.other == first.holder and "standing by" in second.status()
        assert status_reads(sandbox) == 0

        expire_lease(app)
        wait_for(second.run_once)
        assert second.holding and status_reads(sandbox) >= 1
    finally:
        first.close()
        second.close()


def test_released_lease_is_taken_at_once_by_the_poller_standing_by(
    app: Flask, sandbox: SandboxServer
) -> None:
    stop_first, stop_second = threading.Event(), threading.Event()
    heard: dict[str, list[str]] = {"first": [], "second": []}
    first, second = Poller(app, lease_ttl=0.6), Poller(app, lease_ttl=0.6)
    runs = [
        threading.Thread(target=first.run_forever, args=(stop_first, heard["first"].append)),
        threading.Thread(target=second.run_forever, args=(stop_second, heard["second"].append)),
    ]
    runs[0].start()
    wait_for(lambda: heard["first"])
    runs[1].start()
    try:
        wait_for(lambda: heard["second"])
        assert heard["first"][0].startswith("polling")
        assert heard["second"][0].startswith("standing by")
        stop_first.set()
        first.wake_event.set()
        runs[0].join(5)
        wait_for(lambda: len(heard["second"]) >= 2)
        assert heard["second"][-1].startswith("polling")
    finally:
        stop_first.set(), stop_second.set()
        first.wake_event.set(), second.wake_event.set()
        for run in runs:
            run.join(5)
    with app.app_context():
        lease = db.session.get(Lease, LEASE_NAME)  # released on the way out: expired, kept
        assert lease is not None and lease.expires_at <= utcnow() and lease.generation == 2


def test_new_poller_on_the_same_database_resumes_unfinished_work(
    app: Flask, sandbox: SandboxServer
) -> None:
    sandbox.settings.start_ms = 500
    submitted_id = request(app, ["100006", "100007"])
    old = Poller(app)
    cycle_until(old, lambda: deletion_state(app, submitted_id) == "submitted")
    never_sent_id = request(app, ["100008"], wait=True)  # queued after the last cycle
    old.close()  # the old process goes away

    restarted = create_app(dict(app.config))
    try:
        new = Poller(restarted)
        try:
            cycle_until(new, lambda: deletion_state(restarted, submitted_id) == "done")
            cycle_until(new, lambda: deletion_state(restarted, never_sent_id) == "done")
        finally:
            new.close()
    finally:
        with restarted.app_context():
            db.engine.dispose()
    assert sandbox.state.get_image("100006") is None
    assert sandbox.state.get_image("100008") is None


@pytest.mark.parametrize("app_overrides", [{**FAST, "WESOG_STALE_AFTER": 0.3}])
def test_operation_without_progress_is_flagged_stale_and_still_listed(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    sandbox.settings.start_ms = 60_000
    op_id = tracked(app, ["100009"])
    cycle_until(poller, lambda: op_row(app, op_id).state == "stale")
    with app.app_context():
        stale = operations.load_operations(OpFilters(state="stale"), page=1)
        assert [row.op_id for row in stale.rows] == [op_id]
        assert operations.running_count() == 1
    assert op_row(app, op_id).next_poll_at is not None  # still watched


@pytest.mark.parametrize("app_overrides", [{**FAST, "WESOG_POLLER": "thread"}])
def test_thread_mode_starts_one_poller_on_the_first_request_and_it_does_the_work(
    app: Flask, sandbox: SandboxServer
) -> None:
    state = app.extensions["wesog_background"]
    assert state.thread is None  # nothing at import or app creation
    client = app.test_client()
    try:
        client.get("/login")
        thread = state.thread
        assert thread is not None and thread.is_alive()
        client.get("/login")
        assert state.thread is thread
        deletion_id = request(app, ["100010", "100011"])
        wait_for(lambda: deletion_state(app, deletion_id) == "done", timeout=15)
    finally:
        poller_runner.stop(app)
    assert not thread.is_alive()


def test_poll_command_is_registered(runner: Any) -> None:
    result = runner.invoke(args=["wesog", "poll", "--help"])
    assert result.exit_code == 0 and "Ctrl+C" in result.output
