"""The operations service: snapshots, derived state, tracking, import, listing, progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import FAST_POLLING, sql_statements, wait_for
from wesog_dash import operations
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent, Operation, OperationSample, utcnow
from wesog_dash.operations import OpFilters, TrackError
from wesog_dash.poller import Poller
from wesog_dash.poller.discovery import import_from_api
from wesog_dash.poller.polling import NOT_FOUND
from wesog_dash.sandbox import SandboxServer
from wesog_dash.upstream import UpstreamProblem, upstream
from wesog_dash.wesog import WesogAuthError, WesogClient

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

FAST = FAST_POLLING


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling."""
    return dict(FAST)


@pytest.fixture
def api(app: Flask) -> WesogClient:
    """The app's own client, to create operations upstream as another script would."""
    return upstream(app).client()


def audit_actions(app: Flask) -> list[str]:
    """Every audit action, in order."""
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def sample_count(app: Flask, op_id: int) -> int:
    """How many progress samples an operation has."""
    with app.app_context():
        query = select(func.count()).where(OperationSample.op_id == op_id)
        return db.session.scalar(query) or 0


def test_record_snapshot_copies_fields_and_samples_only_changes(
    app: Flask, api: WesogClient
) -> None:
    snapshot = api.delete_image("100001")
    assert snapshot.op_id is not None
    with app.app_context():
        row = operations.record_snapshot(snapshot)
        db.session.commit()
        assert (row.method, row.resource, row.num_total) == ("del", "image", 1)
        assert row.raw == snapshot.raw and row.origin == "dashboard"
        assert row.state == "queued" and row.next_poll_at is not None
        operations.record_snapshot(snapshot)  # the same snapshot again: no new sample
        db.session.commit()
    assert sample_count(app, snapshot.op_id) == 1

    finished = wait_for(lambda: (s := api.get_operation(snapshot.op_id)).is_finished and s)
    with app.app_context():
        row = operations.record_snapshot(finished)
        db.session.commit()
        assert row.state == "finished" and row.next_poll_at is None
        assert row.last_change_at is not None
    assert sample_count(app, snapshot.op_id) == 2


def make_row(**fields: Any) -> Operation:
    """An unsaved Operation row with the given fields (for the pure state function)."""
    now = utcnow()
    base: dict[str, Any] = {
        "op_id": 1,
        "raw": {},
        "num_bad": 0,
        "is_started": False,
        "is_finished": False,
        "first_seen_at": now,
        "last_change_at": now,
    }
    return Operation(**{**base, **fields})


@pytest.mark.parametrize("app_overrides", [{"WESOG_STALE_AFTER": 60.0}])
def test_derive_state_names_each_situation(app: Flask) -> None:
    now = utcnow()
    with app.app_context():
        assert operations.derive_state(make_row(raw=None), now) == "unknown"
        assert operations.derive_state(make_row(), now) == "queued"
        assert operations.derive_state(make_row(is_started=True), now) == "running"
        finished = make_row(is_started=True, is_finished=True)
        assert operations.derive_state(finished, now) == "finished"
        failed = make_row(is_started=True, is_finished=True, num_bad=2)
        assert operations.derive_state(failed, now) == "finished_with_errors"
        idle = make_row(is_started=True, last_change_at=now - timedelta(seconds=61))
        assert operations.derive_state(idle, now) == "stale"


@pytest.mark.parametrize("bad", [0, -3, "abc", "1.5", "", " ", True, "²", 2**63])
def test_track_refuses_ids_that_are_not_positive_integers(
    app: Flask, sandbox: SandboxServer, bad: Any
) -> None:
    with app.app_context(), pytest.raises(TrackError) as refused:
        operations.track(bad, actor="alice")
    assert refused.value.message
    assert audit_actions(app) == []


def test_track_stores_the_id_without_calling_upstream(app: Flask, sandbox: SandboxServer) -> None:
    with app.app_context():
        row = operations.track(" 42 ", actor="alice")  # type: ignore[arg-type]
        assert (row.op_id, row.origin, row.state) == (42, "tracked", "unknown")
        assert row.next_poll_at is not None
        again = operations.track(42, actor="alice")
        assert again.op_id == 42
    assert audit_actions(app) == ["operation.tracked"]
    assert sum(sandbox.state.stats.values()) == 0


def test_tracked_operation_is_filled_in_by_the_poller_and_ends_audited(
    app: Flask, api: WesogClient, poller: Poller
) -> None:
    op_id = api.delete_images(["100002", "100003"]).op_id
    assert op_id is not None
    with app.app_context():
        operations.track(op_id, actor="alice")

    def ended() -> bool:
        poller.run_once()
        with app.app_context():
            row = operations.load_operation(op_id)
            return row is not None and row.state == "finished" and row.outcomes_applied

    wait_for(ended, timeout=15)
    assert audit_actions(app) == ["operation.tracked", "operation.ended"]


def test_tracked_id_unknown_upstream_is_not_found_then_lost_and_no_longer_polled(
    app: Flask, poller: Poller, sandbox: SandboxServer
) -> None:
    app.config["WESOG_LOST_AFTER"] = 0.3
    with app.app_context():
        operations.track(987654, actor="alice")
    poller.run_once()
    with app.app_context():
        row = operations.load_operation(987654)
        assert row is not None and row.state == "missing"  # "not found upstream"
        assert row.last_poll_error == NOT_FOUND and "cannot be reached" not in NOT_FOUND
        assert row.next_poll_at is not None and row.last_polled_at is not None
        assert operations.running_count() == 0

    def lost() -> bool:
        poller.run_once()
        with app.app_context():
            found = operations.load_operation(987654)
            return found is not None and found.state == "lost"

    wait_for(lost, timeout=5)
    with app.app_context():
        row = operations.load_operation(987654)
        assert row is not None and row.next_poll_at is None
        assert row.last_poll_error and "no longer asked" in row.last_poll_error
    polls = sandbox.state.stats["GET /ops/{op_id}"]
    for _ in range(3):
        poller.run_once()
    assert sandbox.state.stats["GET /ops/{op_id}"] == polls  # never asked again


def test_import_from_api_records_every_operation_once(
    app: Flask, api: WesogClient, sandbox: SandboxServer
) -> None:
    done = api.delete_image("100004", wait=True)
    sandbox.settings.start_ms = 60_000  # the second operation stays queued through the test
    running = api.add_images([{"id": "new-1", "src": "https://example.org/1.jpg"}])
    with app.app_context():
        assert import_from_api(actor="alice") == 2
        rows = {op_id: operations.load_operation(op_id) for op_id in (done.op_id, running.op_id)}
        assert {row.origin for row in rows.values() if row} == {"imported"}
        finished = rows[done.op_id]
        assert finished is not None and finished.outcomes_applied  # ended before we knew it
        assert import_from_api(actor="alice") == 0
    assert audit_actions(app) == ["operation.imported", "operation.imported"]
    assert sandbox.state.stats["GET /ops"] == 2


@pytest.mark.parametrize("app_overrides", [{"WESOG_API_KEY": "wrong"}])
def test_import_from_api_raises_the_typed_upstream_error(app: Flask) -> None:
    with app.app_context(), pytest.raises(UpstreamProblem) as raised:
        import_from_api(actor="alice")
    assert isinstance(raised.value.error, WesogAuthError)
    assert raised.value.problem.kind == "auth"
    assert audit_actions(app) == []


def test_list_operations_is_newest_first_filtered_and_paged(app: Flask, api: WesogClient) -> None:
    api.delete_image("100005", wait=True)
    api.delete_image("100006", wait=True)
    api.add_images([{"id": "new-2", "src": "https://example.org/2.jpg"}], wait=True)
    with app.app_context():
        import_from_api(actor="alice")
        everything = operations.load_operations(OpFilters(), page=1, per_page=2)
        assert [r.op_id for r in everything.rows] == [3, 2]
        assert (everything.total, everything.has_next, everything.has_prev) == (3, True, False)
        second = operations.load_operations(OpFilters(), page=2, per_page=2)
        assert [r.op_id for r in second.rows] == [1] and second.has_prev and not second.has_next
        deletes = operations.load_operations(OpFilters(method="del"), page=1)
        assert [r.op_id for r in deletes.rows] == [2, 1]
        assert operations.load_operations(OpFilters(origin="dashboard"), page=1).total == 0
        assert operations.load_operations(OpFilters(state="finished"), page=1).total == 3
        today = datetime.now(UTC).date()
        same_day = OpFilters(created_from=today, created_to=today, resource="image")
        assert operations.load_operations(same_day, page=1).total == 3
        tomorrow = OpFilters(created_from=today + timedelta(days=1))
        assert operations.load_operations(tomorrow, page=1).total == 0
        yesterday = OpFilters(created_to=today - timedelta(days=1))
        assert operations.load_operations(yesterday, page=1).total == 0


def test_running_count_counts_unfinished_known_operations(
    app: Flask, api: WesogClient, sandbox: SandboxServer
) -> None:
    sandbox.settings.start_ms = 5000  # keeps the first one queued
    api.delete_image("100007")
    with app.app_context():
        import_from_api(actor="alice")
        operations.track(999, actor="alice")  # not fetched yet: unknown, not counted
        assert operations.running_count() == 1


def test_progress_reports_percentages_elapsed_time_and_an_eta(
    app: Flask, api: WesogClient, sandbox: SandboxServer, poller: Poller
) -> None:
    sandbox.settings.item_ms = 250  # 5 s of work: room for three samples on a busy machine
    ids = [str(100010 + n) for n in range(20)]
    op_id = api.delete_images(ids).op_id
    assert op_id is not None
    with app.app_context():
        operations.track(op_id, actor="alice")

    def midway() -> Any:
        poller.run_once()
        with app.app_context():
            row = operations.load_operation(op_id)
            assert row is not None
            progress = operations.progress(row)
            return 0 < progress.done < progress.total and sample_count(app, op_id) >= 3 and progress

    progress = wait_for(midway, timeout=15)
    assert progress.total == 20
    assert progress.percent_done == pytest.approx(100 * progress.done / 20, abs=0.1)
    assert progress.elapsed_ms is not None and progress.elapsed_ms > 0
    assert progress.eta_seconds is not None and progress.eta_seconds >= 0

    def finished() -> Any:
        poller.run_once()
        with app.app_context():
            row = operations.load_operation(op_id)
            return row is not None and row.is_finished and operations.progress(row)

    final = wait_for(finished, timeout=15)
    assert (final.percent_done, final.percent_good, final.eta_seconds) == (100.0, 100.0, None)


def test_the_eta_reads_the_progress_curve_once_per_change(
    app: Flask, api: WesogClient, sandbox: SandboxServer, poller: Poller
) -> None:
    sandbox.settings.item_ms = 250
    op_id = api.delete_images([str(100010 + n) for n in range(20)]).op_id
    assert op_id is not None
    with app.app_context():
        operations.track(op_id, actor="alice")

    def running_with_a_curve() -> Operation | None:
        poller.run_once()
        with app.app_context():
            row = operations.load_operation(op_id)
            assert row is not None
            return row if 0 < row.num_good < 20 and sample_count(app, op_id) >= 2 else None

    wait_for(running_with_a_curve, timeout=15)

    def etas() -> list[float | None]:
        with app.app_context():
            row = operations.load_operation(op_id)
            assert row is not None
            return [operations.progress(row).eta_seconds for _ in range(5)]

    with sql_statements(app, "operation_samples") as curve_reads:
        first = etas() + etas()
    # Every open tab polls the fragment; the samples only change with the operation.
    assert len(curve_reads) == 1 and all(eta is not None for eta in first)
    with app.app_context():
        changed_at = operations.load_operation(op_id).last_change_at  # type: ignore[union-attr]

    def changed() -> bool:
        poller.run_once()
        with app.app_context():
            row = operations.load_operation(op_id)
            return row is not None and row.last_change_at != changed_at

    wait_for(changed, timeout=15)
    with sql_statements(app, "operation_samples") as curve_reads:
        etas()
    assert len(curve_reads) == 1  # a new sample: the curve is read again


def test_progress_of_a_queued_operation_has_no_elapsed_time_or_eta(app: Flask) -> None:
    with app.app_context():
        row = make_row(num_total=10)
        progress = operations.progress(row)
        assert (progress.done, progress.percent_done) == (0, 0.0)
        assert progress.elapsed_ms is None and progress.eta_seconds is None


def test_an_item_failure_shows_while_its_operation_still_runs(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    from wesog_dash import deletions
    from wesog_dash.models import DeletionItem

    # Slow enough to look at the op between its elements even when a loaded machine makes
    # one poller cycle take a second or more.
    sandbox.settings.item_ms = 2000
    ids = ["missing-live", "100001", "100002", "100003"]
    with app.app_context():
        request = deletions.request_deletion(
            ids, deletions.DeletionOptions("live failures", strict=True), deletions.Requester("t")
        )
        deletion_id = request.id

    def first_item_settled_mid_run() -> bool:
        poller.run_once()
        with app.app_context():
            items = {
                i.image_id: i
                for i in db.session.scalars(
                    select(DeletionItem).where(DeletionItem.deletion_id == deletion_id)
                )
            }
            op = db.session.get(Operation, items["100001"].op_id) if items["100001"].op_id else None
            if op is None or op.is_finished:
                return False
            first = items["missing-live"]
            return first.outcome == "not_found" and items["100003"].outcome == "pending"

    assert wait_for(first_item_settled_mid_run, timeout=30)
