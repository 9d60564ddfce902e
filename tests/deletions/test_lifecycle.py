"""The life-cycle table of a deletion, and the send claim that pause, cancel and undo respect:
a chunk claimed before them goes (and they say so), a chunk after them is never sent."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask

from tests.conftest import cycle_until, deletes_received, wait_for
from tests.conftest import request_deletion as request
from tests.deletions.test_deletions import FAST, actions, deletion_state, items
from wesog_dash import deletions
from wesog_dash.deletions import lifecycle
from wesog_dash.models import DELETION_STATES, FINAL_DELETION_STATES
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer, SandboxSettings

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

KNOBS = {"api_key": "test-key-5f3a", "images": 60, "item_ms": 0, "start_ms": 0}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Chunks of 5 ids, one operation in flight at a time."""
    return {**FAST, "WESOG_CHUNK_SIZE": 5, "WESOG_MAX_INFLIGHT_OPS": 1}


def test_the_table_names_every_state_and_only_known_ones() -> None:
    assert set(lifecycle.STATES) == set(DELETION_STATES)
    assert set(lifecycle.FINAL) == set(FINAL_DELETION_STATES)
    for name, transition in lifecycle.TRANSITIONS.items():
        assert transition.target in lifecycle.STATES, name
        assert set(transition.sources) <= set(lifecycle.STATES), name
        assert not set(transition.sources) & set(lifecycle.FINAL), f"{name} leaves a final state"
        assert set(transition.by) <= {lifecycle.PERSON, lifecycle.DISPATCHER, lifecycle.POLLER}
    initial = {"scheduled", "pending", "awaiting_approval"}  # where a new request starts
    reachable = {t.target for t in lifecycle.TRANSITIONS.values()} | initial
    assert reachable == set(lifecycle.STATES)


def test_a_person_cannot_cause_what_only_the_dispatcher_may(app: Flask) -> None:
    deletion_id = request(app, ["100001"], undo_seconds=30)
    with app.app_context(), pytest.raises(lifecycle.TransitionError):
        lifecycle.move(deletion_id, "claim_chunk", lifecycle.PERSON)


def sending_in_background(app: Flask, deletion_id: int) -> threading.Thread:
    """The dispatcher sends the deletion in another thread (as the poller's sender does)."""

    def send() -> None:
        with app.app_context():
            deletions.send(deletion_id)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def claimed(app: Flask, deletion_id: int) -> bool:
    return deletion_state(app, deletion_id).state == "sending"


@pytest.mark.parametrize(
    "sandbox_settings", [SandboxSettings(**KNOBS, late_answer=1, late_answer_ms=4000)]
)
@pytest.mark.parametrize("action", ["pause", "cancel"])
def test_an_action_after_the_send_claim_says_the_chunk_went_and_the_rest_waits(
    app: Flask, sandbox: SandboxServer, poller: Poller, action: str
) -> None:
    ids = [str(100001 + n) for n in range(10)]  # two chunks of five
    deletion_id = request(app, ids, kind="list", send_inline=False)
    sender = sending_in_background(app, deletion_id)
    wait_for(lambda: claimed(app, deletion_id))  # the first chunk is on its way (a late answer)
    with app.app_context():
        if action == "pause":
            said = deletions.pause(deletion_id, "olga")
        else:
            said = deletions.cancel(deletion_id, "olga").message
    assert "1 chunk was already being sent; the rest is" in said
    assert deletion_state(app, deletion_id).state in ("pausing", "cancelling")
    sender.join(timeout=20)
    final = "paused" if action == "pause" else "cancelled"
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == final)
    assert deletes_received(sandbox) == 1  # the claimed chunk, and nothing after it
    outcomes = sorted(item["outcome"] for item in items(app, deletion_id))
    rest = ["pending"] * 5 if action == "pause" else ["not_sent"] * 5
    assert outcomes == sorted(["deleted"] * 5 + rest)  # as the API did, the rest not sent
    assert all(sandbox.state.get_image(i) is None for i in ids[:5])
    assert all(sandbox.state.get_image(i) is not None for i in ids[5:])
    deletion = deletion_state(app, deletion_id)
    if action == "cancel":
        assert deletion.finished_at is not None
        assert actions(app, deletion_id)[-1] == "deletion.ended"


@pytest.mark.parametrize("action", ["pause", "cancel", "undo"])
def test_an_action_before_the_send_claim_means_nothing_is_ever_sent(
    app: Flask, sandbox: SandboxServer, poller: Poller, action: str
) -> None:
    deletion_id = request(app, ["100021", "100022"], kind="list", undo_seconds=30)
    with app.app_context():
        getattr(deletions, action)(deletion_id, "olga")
    for _ in range(3):
        poller.run_once()
    assert deletes_received(sandbox) == 0
    assert {item["outcome"] for item in items(app, deletion_id)} == (
        {"pending"} if action == "pause" else {"not_sent"}
    )


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(**KNOBS, hold=True)])
def test_a_cancelled_deletion_is_cancelling_until_its_running_operation_ends(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    ids = [str(100031 + n) for n in range(10)]
    deletion_id = request(app, ids, kind="list")
    poller.run_once()  # chunk one is sent and held upstream
    sandbox.settings.cancel_supported = False  # as if it had started: it cannot be cancelled
    with app.app_context():
        report = deletions.cancel(deletion_id, "olga")
    assert report.dropped == 5
    deletion = deletion_state(app, deletion_id)
    assert deletion.state == "cancelling" and deletion.finished_at is None
    sandbox.settings.hold = False
    sandbox.state.wake()
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "cancelled")
    deletion = deletion_state(app, deletion_id)
    with app.app_context():
        [op] = deletions.get_deletion(deletion_id).operations
        assert op.is_finished and deletion.finished_at is not None
    outcomes = sorted(item["outcome"] for item in items(app, deletion_id))
    assert outcomes == sorted(["deleted"] * 5 + ["not_sent"] * 5)


@pytest.mark.parametrize(
    "sandbox_settings",
    [SandboxSettings(api_key="test-key-5f3a", images=60, item_ms=400, start_ms=0, fail_rate=1.0)],
)
def test_the_stop_rule_applies_as_results_arrive_inside_an_operation(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    ids = [str(100001 + n) for n in range(20)]  # four chunks of five, one in flight at a time
    deletion_id = request(app, ids, kind="list", stop_ratio=0.5, stop_min_items=2)

    def stopped_mid_operation() -> bool:
        poller.run_once()
        with app.app_context():
            deletion = deletions.get_deletion(deletion_id)
            assert deletion is not None and deletion.state != "stopped", "stopped only at the end"
            return deletion.state == "stopping" and not deletion.operations[0].is_finished

    wait_for(stopped_mid_operation, timeout=20)
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "stopped")
    assert deletes_received(sandbox) == 1  # the chunk already running ran on; no other was sent
    outcomes = sorted(item["outcome"] for item in items(app, deletion_id))
    assert outcomes == sorted(["failed"] * 5 + ["not_sent"] * 15)
    assert deletion_state(app, deletion_id).message.startswith("stopped: ")


def test_the_page_says_before_sending_when_the_stop_rule_cannot_apply(app: Flask) -> None:
    with app.app_context():
        one_chunk = deletions.stop_reach(5)
        several = deletions.stop_reach(20)
    assert one_chunk is not None and "cannot stop this deletion" in one_chunk
    assert several is not None and "the first 5 images may be on their way" in several


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(**KNOBS, hold=True)])
def test_an_operation_the_poller_finds_cancelled_settles_its_items_cancelled_not_failed(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    from wesog_dash.upstream import upstream

    deletion_id = request(app, [str(100041 + n) for n in range(5)], kind="list")
    poller.run_once()  # sent, queued upstream
    [op_id] = {item["op_id"] for item in items(app, deletion_id)}
    assert upstream(app).client().cancel_operation(op_id).cancelled  # not through this console
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done_with_errors")
    assert {item["outcome"] for item in items(app, deletion_id)} == {"cancelled"}
