"""The safety net against the real sandbox: undo window, pause across a restart, cancel of
queued operations (and an API that cannot cancel), the stop on failures, retry of failures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from tests.conftest import cycle_until, deletes_received
from tests.conftest import request_deletion as request
from tests.deletions.test_deletions import FAST, actions, deletion_state, items
from wesog_dash import create_app, deletions
from wesog_dash.extensions import db
from wesog_dash.models import DeletionRequest, utcnow
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer, SandboxSettings

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

QUICK_KNOBS = {"api_key": "test-key-5f3a", "images": 60, "item_ms": 0, "start_ms": 0}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling; chunks of 5 ids, one operation in flight at a time."""
    return {**FAST, "WESOG_CHUNK_SIZE": 5, "WESOG_MAX_INFLIGHT_OPS": 1}


def test_undo_within_the_window_sends_nothing_upstream(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(app, ["100001"], undo_seconds=30)
    assert deletion_state(app, deletion_id).state == "scheduled"
    poller.run_once()
    with app.app_context():
        deletions.undo(deletion_id, "olga")
    poller.run_once()
    assert deletes_received(sandbox) == 0
    assert deletion_state(app, deletion_id).state == "cancelled"
    assert items(app, deletion_id)[0]["outcome"] == "not_sent"
    assert "deletion.undone" in actions(app, deletion_id)
    assert sandbox.state.get_image("100001") is not None
    with app.app_context():  # a second undo: the same answer, nothing more
        assert (
            deletions.undo(deletion_id, "olga")
            == f"Deletion #{deletion_id} undone: nothing was sent."
        )
    assert actions(app, deletion_id).count("deletion.undone") == 1


def end_window(app: Flask, deletion_id: int) -> None:
    """The undo window is over now (without a test waiting for the clock on a busy machine)."""
    with app.app_context():
        deletion = db.session.get(DeletionRequest, deletion_id)
        assert deletion is not None
        deletion.send_at = deletion.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()


def test_after_the_window_the_deletion_is_sent_exactly_once(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(app, ["100002"], undo_seconds=30)
    poller.run_once()
    assert deletes_received(sandbox) == 0  # still in its window
    end_window(app, deletion_id)
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done")
    for _ in range(3):
        poller.run_once()
    assert deletes_received(sandbox) == 1
    assert sandbox.state.get_image("100002") is None
    with app.app_context(), pytest.raises(deletions.ControlError, match="Too late"):
        deletions.undo(deletion_id, "olga")


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(**QUICK_KNOBS, hold=True)])
def test_pause_keeps_unsent_chunks_unsent_across_a_restart(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    ids = [str(100001 + n) for n in range(15)]  # three chunks of five
    deletion_id = request(app, ids, kind="list")
    poller.run_once()  # the first chunk goes (queued upstream: hold); the next waits for it
    with app.app_context():
        deletions.pause(deletion_id, "olga")
    assert deletes_received(sandbox) == 1
    # A new app and poller on the same database: the pause is in the database.
    restarted = create_app(dict(app.config))
    second = Poller(restarted)
    try:
        sandbox.settings.hold = False  # the first chunk runs: the window is free again
        sandbox.state.wake()
        cycle_until(
            second,
            lambda: sum(i["outcome"] == "deleted" for i in items(restarted, deletion_id)) == 5,
        )
        for _ in range(5):
            second.run_once()
        assert deletes_received(sandbox) == 1
        assert deletion_state(restarted, deletion_id).state == "paused"
        with restarted.app_context():
            deletions.resume(deletion_id, "olga")
        cycle_until(second, lambda: deletion_state(restarted, deletion_id).state == "done")
    finally:
        second.close()
        restarted.extensions["wesog_upstream"].close()
        with restarted.app_context():
            db.engine.dispose()
    assert deletes_received(sandbox) == 3
    assert [
        a for a in actions(app, deletion_id) if a in ("deletion.paused", "deletion.resumed")
    ] == ["deletion.paused", "deletion.resumed"]


@pytest.mark.parametrize(
    "sandbox_settings",
    [SandboxSettings(api_key="test-key-5f3a", images=60, item_ms=0, start_ms=0, hold=True)],
)
def test_cancel_drops_unsent_chunks_and_cancels_the_queued_operation(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    ids = [str(100011 + n) for n in range(10)]
    deletion_id = request(app, ids, kind="list")
    poller.run_once()  # chunk one is sent and stays queued upstream (hold)
    with app.app_context():
        report = deletions.cancel(deletion_id, "olga")
    assert report.dropped == 5 and len(report.cancelled_ops) == 1
    assert sandbox.state.stats["DELETE /ops/{op_id}"] == 1
    assert deletion_state(app, deletion_id).state == "cancelled"
    assert (
        sorted(i["outcome"] for i in items(app, deletion_id))
        == ["cancelled"] * 5 + ["not_sent"] * 5
    )
    sandbox.settings.hold = False
    sandbox.state.wake()
    poller.run_once()
    assert all(sandbox.state.get_image(i) is not None for i in ids)  # nothing deleted
    assert "deletion.cancelled" in actions(app, deletion_id)


@pytest.mark.parametrize(
    "sandbox_settings",
    [SandboxSettings(api_key="test-key-5f3a", images=60, hold=True, cancel_supported=False)],
)
def test_an_api_that_cannot_cancel_is_told_once_without_error(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(app, ["100021", "100022"], kind="list")
    poller.run_once()
    with app.app_context():
        report = deletions.cancel(deletion_id, "olga")
    assert report.cancelled_ops == [] and report.dropped == 0
    assert report.message == "Nothing was cancelled. This Wesog API cannot cancel operations."
    assert deletion_state(app, deletion_id).state == "submitted"  # it runs on, as it is
    with app.app_context():
        assert deletions.standing(deletions.get_deletion(deletion_id)).can_cancel


@pytest.mark.parametrize(
    "sandbox_settings",
    [SandboxSettings(api_key="test-key-5f3a", images=60, item_ms=0, start_ms=0, fail_rate=0.9)],
)
def test_the_failure_threshold_stops_the_deletion_and_says_why(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    ids = [str(100001 + n) for n in range(40)]
    deletion_id = request(app, ids, kind="list", stop_ratio=0.5, stop_min_items=10)
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "stopped")
    deletion = deletion_state(app, deletion_id)
    assert deletion.message.startswith("stopped: ") and "more than 50 %" in deletion.message
    assert sandbox.state.stats["DELETE /imgs"] < 8  # not every chunk was sent
    outcomes = [i["outcome"] for i in items(app, deletion_id)]
    assert outcomes.count("not_sent") >= 5
    assert "deletion.stopped" in actions(app, deletion_id)


@pytest.mark.parametrize(
    "sandbox_settings",
    [SandboxSettings(api_key="test-key-5f3a", images=60, item_ms=0, start_ms=0, fail_rate=0.5)],
)
def test_retry_creates_a_child_with_only_the_failed_ids(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    ids = [str(100031 + n) for n in range(5)]  # one chunk: one operation
    parent = request(app, ids, kind="list", urgent=True)
    cycle_until(poller, lambda: deletion_state(app, parent).state == "done_with_errors")
    failed = [i["image_id"] for i in items(app, parent) if i["outcome"] == "failed"]
    assert 0 < len(failed) < len(ids)  # the seeded sandbox fails some, not all
    sandbox.settings.fail_rate = 0.0
    with app.app_context():
        child = deletions.retry_failures(parent, deletions.Requester("ana"))
        child_id = child.id
    retried = deletion_state(app, child_id)
    assert [i["image_id"] for i in items(app, child_id)] == failed
    assert retried.retry_of_id == parent
    assert retried.reason == f"Retry of #{parent}: takedown notice"
    assert (retried.do_urgent, retried.do_wait, retried.do_strict) == (True, False, False)
    with app.app_context():
        assert [c.id for c in deletions.get_deletion(parent).retries] == [child_id]
    assert "deletion.retried" in actions(app, parent)
    cycle_until(poller, lambda: deletion_state(app, child_id).state == "done")
    assert all(sandbox.state.get_image(i) is None for i in ids)
