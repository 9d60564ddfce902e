"""A bulk deletion at the pace of the API: an operation this console just sent is read again
soon (and the list read early for it), its end lets the next chunk go on the next cycle, a
chunk's images are kept with a few searches, and its outcomes are recorded set-based."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from tests.conftest import request_deletion, sql_statements, wait_for
from wesog_dash import deletions
from wesog_dash.deletions.sending import keeping
from wesog_dash.extensions import db
from wesog_dash.models import DeletionItem, ImageSnapshot, Operation, utcnow
from wesog_dash.operations import record_snapshot
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer, SandboxSettings
from wesog_dash.signals import wake_event
from wesog_dash.upstream import upstream
from wesog_dash.wesog import OperationSnapshot, WesogValidationError

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

SLOW = {  # slow regular polling: whatever is read soon is read soon because it is young
    "WESOG_POLL_INTERVAL": 30.0,
    "WESOG_QUEUED_POLL_INTERVAL": 30.0,
    "WESOG_DISCOVER": False,
    "WESOG_MAX_CALLS_PER_SECOND": 1000.0,
}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Slow regular polling, no discovery, a budget that never waits."""
    return dict(SLOW)


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    """Enough images for a chunk of 1,000; no time per image."""
    return SandboxSettings(api_key="test-key-5f3a", images=1200, item_ms=0, start_ms=0)


def ours(app: Flask) -> list[Operation]:
    """The operations of our deletions, detached, oldest first."""
    with app.app_context():
        rows = list(db.session.scalars(select(Operation).order_by(Operation.op_id)))
        db.session.expunge_all()
        return [row for row in rows if row.deletion_id is not None]


def test_an_operation_just_sent_is_read_again_soon_then_on_a_growing_back_off(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    sandbox.settings.hold = True  # queued upstream throughout
    request_deletion(app, ["100001", "100002"])
    poller.run_once()
    (op,) = ours(app)
    assert op.next_poll_at is not None and op.last_polled_at is not None
    first = (op.next_poll_at - op.last_polled_at).total_seconds()
    age = (op.last_polled_at - op.first_seen_at).total_seconds()  # the cycle may re-read it
    assert first == pytest.approx(max(0.05, age / 2), abs=1e-5), "young: soon, not after 30 s"
    with app.app_context():  # ten seconds later it is still queued: half its age, 5 s
        row = db.session.get(Operation, op.op_id)
        row.first_seen_at = utcnow() - timedelta(seconds=10)
        record_snapshot(upstream(app).client().get_operation(op.op_id))
        assert (row.next_poll_at - row.last_polled_at).total_seconds() == pytest.approx(5, 0.01)
        # Running, half done in 400 ms: its expected end is 400 ms away.
        running = {**row.raw, "is_started": True, "num_total": 2, "num_good": 1, "exec_ms": 400}
        record_snapshot(OperationSnapshot.from_json(running, op.op_id))
        assert (row.next_poll_at - row.last_polled_at).total_seconds() == pytest.approx(0.4)
        row.first_seen_at = utcnow() - timedelta(hours=1)
        record_snapshot(OperationSnapshot.from_json({**running, "num_good": 0}, op.op_id))
        assert (row.next_poll_at - row.last_polled_at).total_seconds() == 30, "old: as usual"


def op_json(op_id: int, *, started: bool, done: int, exec_ms: float) -> dict[str, Any]:
    """An operation body of 100 deletions, `done` of them done."""
    return {
        "op_id": op_id,
        "method": "del",
        "resource": "image",
        "num_total": 100,
        "num_good": done,
        "num_bad": 0,
        "is_started": started,
        "is_finished": done == 100,
        "all_good": True if done == 100 else None,
        "do_wait": False,
        "do_urgent": False,
        "do_strict": False,
        "idle_ms": 0,
        "exec_ms": exec_ms,
        "errors": [],
    }


def test_a_queued_operation_of_ours_is_read_when_its_deletion_pace_says_it_ends(
    app: Flask, sandbox: SandboxServer
) -> None:
    deletion_id = request_deletion(app, ["100001"], undo_seconds=60)
    with app.app_context():
        for op_id, started, done in ((901, True, 100), (902, True, 40), (903, False, 0)):
            body = op_json(op_id, started=started, done=done, exec_ms=1000 if done else 0)
            record_snapshot(OperationSnapshot.from_json(body), deletion_id=deletion_id)
        db.session.commit()
        queued = db.session.get(Operation, 903)
        # 10 ms per image in #901; 60 images left in #902 ahead of it, then its own 100.
        assert (queued.next_poll_at - queued.last_polled_at).total_seconds() == pytest.approx(1.6)


def test_the_list_is_read_early_for_a_due_operation_of_ours_only(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    sandbox.settings.hold = True
    app.config["WESOG_CHUNK_SIZE"] = 1
    request_deletion(app, ["100001", "100002", "100003"])
    poller.run_once()  # three operations sent; the list read once (the cheaper way)
    assert len(ours(app)) == 3
    poller.run_once()
    client = upstream(app).client()
    other = client.delete_image("100010").op_id  # the tenant's, read by hand: not ours
    with app.app_context():
        record_snapshot(client.get_operation(other), origin="imported")
        db.session.execute(update(Operation).values(next_poll_at=utcnow()))  # all due now
        db.session.execute(
            update(Operation).where(Operation.deletion_id.is_not(None)).values(next_poll_at=None)
        )
        db.session.commit()
    sandbox.state.reset_stats()
    regular = poller.refresher.next_list
    poller.run_once()
    assert sandbox.state.stats["GET /ops"] == 1, "ours are due: the list goes before 30 s"
    assert poller.refresher.next_list == regular, "an early read keeps the regular schedule"
    sandbox.state.reset_stats()
    with app.app_context():
        db.session.execute(update(Operation).values(next_poll_at=utcnow()))
        db.session.execute(
            update(Operation)
            .where(Operation.deletion_id.is_not(None))
            .values(next_poll_at=utcnow() + timedelta(seconds=30))
        )
        db.session.commit()
    poller.run_once()
    assert sandbox.state.stats["GET /ops"] == 0, "only the tenant's op is due: it waits"
    assert sandbox.state.stats["GET /ops/{op_id}"] == 0
    with app.app_context():  # the wait until the next cycle ends when one of ours is due
        db.session.execute(
            update(Operation)
            .where(Operation.deletion_id.is_not(None))
            .values(next_poll_at=utcnow() + timedelta(seconds=0.3))
        )
        db.session.commit()
    assert poller.pause() <= 0.3


def test_the_room_in_flight_is_each_deletions_own(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    sandbox.settings.hold = True  # nothing ends upstream
    app.config.update(WESOG_CHUNK_SIZE=2, WESOG_MAX_INFLIGHT_OPS=1)
    first = request_deletion(app, [str(100001 + n) for n in range(4)])
    second = request_deletion(app, [str(100011 + n) for n in range(4)])
    poller.run_once()
    assert sandbox.state.stats["DELETE /imgs"] == 2, (
        "one chunk of each: neither waits for the other"
    )
    with app.app_context():
        owners = sorted(op.deletion_id for op in ours(app))
        assert owners == sorted([first, second])
        for deletion_id in (first, second):
            waiting = deletions.get_deletion(deletion_id)
            assert waiting is not None and waiting.message == deletions.WAITING


def test_the_next_chunk_goes_on_the_cycle_after_an_end_without_a_timer(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    sandbox.settings.hold = True
    app.config.update(WESOG_CHUNK_SIZE=2, WESOG_MAX_INFLIGHT_OPS=1)
    deletion_id = request_deletion(app, [str(100001 + n) for n in range(4)])
    poller.run_once()
    assert sandbox.state.stats["DELETE /imgs"] == 1, "one in flight: the second chunk waits"
    with app.app_context():
        waiting = deletions.get_deletion(deletion_id)
        assert waiting is not None and waiting.message == deletions.WAITING
        # Its fallback timer is the poll interval, 30 s away: it must not be what sends it.
        assert (waiting.next_attempt_at - utcnow()).total_seconds() > 20
    (op,) = ours(app)
    sandbox.settings.hold = False
    client = upstream(app).client()
    wait_for(lambda: client.get_operation(op.op_id).is_finished)  # ended upstream
    wait_for(lambda: utcnow() >= op.next_poll_at)  # young: due within 50 ms of its send
    wake = wake_event(app)
    wake.clear()
    poller.run_once()  # reads it, records its end, makes room and wakes the dispatcher
    assert wake.is_set() and ours(app)[0].is_finished
    poller.run_once()
    assert sandbox.state.stats["DELETE /imgs"] == 2


statements = sql_statements


def test_a_chunk_of_1000_is_kept_with_two_searches_and_settled_in_a_few_statements(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    ids = [str(100001 + n) for n in range(998)] + ["gone-1", "gone-2"]
    deletion_id = request_deletion(app, ids, strict=True)
    sandbox.settings.hold = True  # the end is read in a cycle of its own
    with statements(app, "image_snapshots") as kept:
        poller.run_once()  # sends the chunk, keeping its images first
    sandbox.settings.hold = False
    assert sandbox.state.stats["GET /imgs"] == 2, (
        "a probe of two ids, then one search: 996 ids in a range, two beside it"
    )
    assert sandbox.state.stats["GET /imgs/{image_id}"] == 0
    assert len([s for s in kept if s.lstrip().upper().startswith("INSERT")]) == 1
    wait_for(lambda: upstream(app).client().get_operation(ours(app)[0].op_id).is_finished)
    with app.app_context():
        db.session.execute(update(Operation).values(next_poll_at=utcnow()))
        db.session.commit()
    with statements(app, "deletion_items") as settled:
        poller.run_once()  # reads the end and records 1,000 outcomes
    with app.app_context():
        assert deletions.outcome_counts(deletion_id) == {"deleted": 998, "not_found": 2}
        assert deletions.get_deletion(deletion_id).state == "done_with_errors"  # type: ignore[union-attr]
    writes = [s for s in settled if s.lstrip().upper().startswith("UPDATE")]
    # The failures named, the ids the metadata read found missing, then every other item.
    assert 1 <= len(writes) <= 3, "set-based"
    assert len(settled) <= 7, settled


def test_a_formula_the_api_refuses_is_halved_not_read_id_by_id(
    app: Flask, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = upstream(app).client()

    class Picky:
        """The real client, refusing formulas of more than 400 ids (like a URL limit)."""

        def search_images(self, q: str, **kwargs: Any) -> Any:
            if q.count(",") >= 400:
                raise WesogValidationError("URI too long", 414)
            return real.search_images(q=q, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    monkeypatch.setattr(keeping, "wesog_client", lambda: Picky())
    ids = [str(101000 - n) for n in range(1000)]  # newest first: no run travels as a range
    with app.app_context():
        deletion_id = request_deletion(app, ["101000"], undo_seconds=60)
        keeping.keep(deletion_id, list(enumerate(ids)))  # kept, not sent
        kept = db.session.scalars(select(ImageSnapshot.data)).all()
    assert len(kept) == 1000 and all(kept)
    assert sandbox.state.stats["GET /imgs"] == 4, "a probe of 2; 722 refused: 361 + 361, 276"
    assert sandbox.state.stats["GET /imgs/{image_id}"] == 0
    with app.app_context():
        assert db.session.scalar(select(DeletionItem.outcome)) == "pending"
