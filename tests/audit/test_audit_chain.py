"""The hash chain: how events link, what `verify` catches, and `prune` keeping it verifiable."""

from __future__ import annotations

import getpass
import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from tests.audit.helpers import actions, add_events, clock_at, engine_name, event_ids, tamper
from tests.conftest import AuthActions
from wesog_dash import audit
from wesog_dash.audit import chain as audit_chain
from wesog_dash.audit.hashing import GENESIS_HASH
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent, AuditHead

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

ME = f"cli:{getpass.getuser()}"


def verify(app: Flask) -> audit_chain.ChainReport:
    """Walk the whole chain in a fresh app context."""
    with app.app_context():
        return audit_chain.verify()


def test_events_chain_from_genesis_and_the_head_follows(app: Flask) -> None:
    ids = add_events(app, 3)
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [r.id for r in rows] == ids
        assert rows[0].prev_hash == GENESIS_HASH
        assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
        assert all(r.hash == audit.event_hash(r) for r in rows)
        assert rows[0].at <= rows[1].at <= rows[2].at
        head = db.session.get(AuditHead, 1)
        assert head is not None and (head.event_id, head.hash) == (ids[-1], rows[2].hash)


def test_an_untouched_chain_verifies_with_its_count_and_last_event(app: Flask) -> None:
    ids = add_events(app, 5)
    report = verify(app)
    assert report.intact and report.count == 5
    assert report.last is not None and report.last.event_id == ids[-1]
    assert re.fullmatch(
        rf"chain intact: 5 events, up to event #{ids[-1]} at \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC",
        report.summary(),
    )


def test_an_empty_log_verifies(app: Flask) -> None:
    assert verify(app).summary() == "chain intact: 0 events (the log is empty)"


def test_verify_walks_in_small_batches_too(app: Flask) -> None:
    add_events(app, 7)
    with app.app_context():
        assert audit_chain.verify(batch=2).count == 7


@pytest.mark.parametrize("position", [0, 3, 6], ids=["first", "middle", "last"])
def test_a_changed_field_is_caught_at_that_event(app: Flask, position: int) -> None:
    ids = add_events(app, 7)
    tamper(app, "UPDATE audit_events SET reason = 'nothing to see' WHERE id = ?", ids[position])
    report = verify(app)
    assert not report.intact and report.broken_id == ids[position]
    assert "content no longer matches its hash" in (report.problem or "")


@pytest.mark.parametrize("column", ["actor", "at", "details", "image_id", "outcome"])
def test_every_column_is_covered_by_the_hash(app: Flask, column: str) -> None:
    ids = add_events(app, 3)
    value = {"at": "2020-01-01 00:00:00.000000", "details": '{"x": 1}'}.get(column, "forged")
    tamper(app, f"UPDATE audit_events SET {column} = ? WHERE id = ?", value, ids[1])
    assert verify(app).broken_id == ids[1]


def test_deleting_the_first_event_is_caught_at_the_new_first(app: Flask) -> None:
    ids = add_events(app, 7)
    tamper(app, "DELETE FROM audit_events WHERE id = ?", ids[0])
    report = verify(app)
    assert report.broken_id == ids[1]
    assert "earlier events were deleted" in (report.problem or "")


def test_deleting_a_middle_event_is_caught_at_its_successor(app: Flask) -> None:
    ids = add_events(app, 7)
    tamper(app, "DELETE FROM audit_events WHERE id = ?", ids[3])
    report = verify(app)
    assert report.broken_id == ids[4]
    assert f"between #{ids[2]} and #{ids[4]} were deleted" in (report.problem or "")


def test_deleting_the_last_event_is_caught_through_the_head(app: Flask) -> None:
    ids = add_events(app, 7)
    tamper(app, "DELETE FROM audit_events WHERE id = ?", ids[-1])
    report = verify(app)
    assert report.broken_id == ids[-1]
    assert f"newest events after #{ids[-2]} were deleted" in (report.problem or "")


def test_a_cut_tail_stays_visible_after_new_events(app: Flask) -> None:
    ids = add_events(app, 5)
    tamper(app, "DELETE FROM audit_events WHERE id >= ?", ids[3])
    [new] = add_events(app, 1)
    report = verify(app)
    assert report.broken_id == new
    # SQLite gives the new event a removed id again, PostgreSQL's sequence does not: either
    # way the walk says that events were deleted.
    assert "were deleted" in (report.problem or "")


def test_a_re_hashed_edit_is_caught_at_the_next_link(app: Flask) -> None:
    ids = add_events(app, 4)
    with app.app_context():
        row = db.session.get(AuditEvent, ids[1])
        assert row is not None
        row.reason = "rewritten"
        row.hash = audit.event_hash(row)  # a careful forger recomputes this row's hash
        db.session.commit()
    report = verify(app)
    assert report.broken_id == ids[2]
    assert f"event #{ids[1]} was changed and re-hashed" in (report.problem or "")


def test_an_event_inserted_behind_the_console_is_caught(app: Flask) -> None:
    ids = add_events(app, 2)
    with app.app_context():
        last = db.session.get(AuditEvent, ids[-1])
        assert last is not None
        forged = AuditEvent(
            id=ids[-1] + 1,
            at=last.at,
            actor="mallory",
            action="login.succeeded",
            details={},
            prev_hash=last.hash,
            hash="",
        )
        forged.hash = audit.event_hash(forged)
        db.session.add(forged)
        db.session.commit()
    report = verify(app)
    assert report.broken_id == ids[-1] + 1 and "outside the console" in (report.problem or "")


def test_cli_verify_prints_the_verdict_exits_zero_and_records_one_event(app: Flask, runner) -> None:
    ids = add_events(app, 3)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"chain intact: 3 events, up to event #{ids[-1]} at ")
    assert actions(app)[3:] == ["audit.verified"]
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None and event.actor == ME and event.outcome == "intact"
    assert runner.invoke(args=["audit", "verify"]).output.startswith("chain intact: 4 events")


@pytest.mark.parametrize("position", [0, 2, 4], ids=["first", "middle", "last"])
def test_cli_verify_exits_one_at_the_broken_link(app: Flask, runner, position: int) -> None:
    ids = add_events(app, 5)
    tamper(app, "DELETE FROM audit_events WHERE id = ?", ids[position])
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    broken = ids[position] if position == 4 else ids[position + 1]
    assert result.output.startswith(f"chain broken at event #{broken}: ")
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None and event.action == "audit.verified"
        assert event.outcome == "broken" and event.details["broken_id"] == broken


@pytest.mark.parametrize("position", [0, 3, 5], ids=["first", "middle", "last"])
def test_the_audit_page_shows_the_same_broken_link(
    app: Flask, client, auth: AuthActions, position: int
) -> None:
    auth.login("viewer")  # writes user.created and login.succeeded first
    ids = add_events(app, 6)
    tamper(app, "UPDATE audit_events SET actor = 'someone else' WHERE id = ?", ids[position])
    html = client.get("/audit").get_data(as_text=True)
    assert f"Chain broken at event #{ids[position]}:" in html
    assert 'class="error-box" role="alert"' in html


def test_the_audit_page_shows_the_intact_verdict(app: Flask, client, auth: AuthActions) -> None:
    auth.login("viewer")
    ids = add_events(app, 4)
    html = client.get("/audit").get_data(as_text=True)
    assert "Chain intact:</strong> 6 events, up to event" in html
    assert f"#{ids[-1]} at <time" in html


def days(*values: int) -> datetime:
    return datetime(*values, tzinfo=UTC)  # type: ignore[misc]


def dated_events(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Three events on 2026-01-10, three on 2026-02-10."""
    with clock_at(monkeypatch, days(2026, 1, 10)) as clock:
        old = add_events(app, 3)
        clock.advance(days=31)
        new = add_events(app, 3)
    return old + new


def test_prune_without_yes_only_says_what_it_would_remove(
    app: Flask, runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = dated_events(app, monkeypatch)
    result = runner.invoke(args=["audit", "prune", "--before", "2026-02-01"])
    assert result.exit_code == 1
    assert "Would remove 3 events older than 2026-02-01 00:00 UTC" in result.output
    assert f"up to event #{ids[2]}" in result.output and "--yes" in result.output
    assert event_ids(app) == ids


def test_prune_removes_old_events_records_itself_and_still_verifies(
    app: Flask, runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = dated_events(app, monkeypatch)
    with app.app_context():
        last_removed_hash = db.session.get(AuditEvent, ids[2]).hash  # type: ignore[union-attr]
    result = runner.invoke(args=["audit", "prune", "--before", "2026-02-01", "--yes"])
    assert result.exit_code == 0, result.output
    assert "Removed 3 events" in result.output
    remaining = event_ids(app)
    assert remaining[:3] == ids[3:] and len(remaining) == 4
    with app.app_context():
        pruned = db.session.get(AuditEvent, remaining[-1])
        assert pruned is not None and pruned.action == "audit.pruned" and pruned.actor == ME
        assert pruned.details["count"] == 3
        assert pruned.details["last_removed_hash"] == last_removed_hash
        assert pruned.details["last_removed_id"] == ids[2]
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith(f"chain intact: 4 events, up to event #{remaining[-1]}")


def test_deleting_more_after_a_prune_is_still_caught(
    app: Flask, runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = dated_events(app, monkeypatch)
    runner.invoke(args=["audit", "prune", "--before", "2026-02-01", "--yes"])
    tamper(app, "DELETE FROM audit_events WHERE id = ?", ids[3])
    assert verify(app).broken_id == ids[4]


def test_pruning_everything_leaves_a_verifiable_prune_event(
    app: Flask, runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    dated_events(app, monkeypatch)
    result = runner.invoke(args=["audit", "prune", "--before", "2100-01-01", "--yes"])
    assert "Removed 6 events" in result.output
    assert actions(app) == ["audit.pruned"]
    assert verify(app).intact


def test_a_forged_prune_record_is_caught(
    app: Flask, runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    dated_events(app, monkeypatch)
    runner.invoke(args=["audit", "prune", "--before", "2026-02-01", "--yes"])
    [pruned] = event_ids(app, action="audit.pruned")
    forged = {
        "sqlite": "json_set(details, '$.count', 1)",
        "postgresql": "jsonb_set(details::jsonb, '{count}', '1')::json",
    }[engine_name(app)]
    tamper(app, f"UPDATE audit_events SET details = {forged} WHERE id = ?", pruned)
    assert verify(app).broken_id == pruned


def test_prune_with_nothing_older_removes_nothing(app: Flask, runner) -> None:
    add_events(app, 2)
    result = runner.invoke(args=["audit", "prune", "--before", "2000-01-01", "--yes"])
    assert result.exit_code == 0 and "nothing to prune" in result.output
    assert len(event_ids(app)) == 2


def test_prune_refuses_a_date_it_cannot_read(app: Flask, runner) -> None:
    result = runner.invoke(args=["audit", "prune", "--before", "last week", "--yes"])
    assert result.exit_code == 2 and "--before" in result.output
