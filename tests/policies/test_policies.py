"""Retention policies against the real sandbox and a real poller: the dry run and its approval
by someone else, scheduled runs as ordinary deletions, one run for a missed slot after a
restart, never two runs at once, pausing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import cycle_until
from tests.deletions.test_deletions import FAST, actions
from wesog_dash import policies
from wesog_dash.audit import receipts
from wesog_dash.extensions import db
from wesog_dash.models import DeletionRequest, PolicyRun, RetentionPolicy, utcnow
from wesog_dash.policies import runs
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

QUERY = "id<=100005"  # five sandbox images: 100001 … 100005


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling."""
    return dict(FAST)


def add(app: Flask, every: int = 60, max_images: int = 3, author: str = "ana") -> int:
    """A saved policy with its dry run, by `author`; its id."""
    rule = policies.PolicyRule("old-uploads", QUERY, every, None, max_images, "licence expired")
    with app.app_context():
        policy = policies.add_policy(rule, actor=author)
        policies.dry_run(policy.id, actor=author)
        return policy.id


def approved(app: Flask, every: int = 60, max_images: int = 3) -> int:
    """A policy whose dry run bob approved: active and due at once."""
    policy_id = add(app, every, max_images)
    with app.app_context():
        policies.approve_policy(policy_id, 1, actor="bob", reason="checked the list")
    return policy_id


def policy_row(app: Flask, policy_id: int) -> RetentionPolicy:
    """A detached copy of the policy's columns."""
    with app.app_context():
        row = db.session.get(RetentionPolicy, policy_id)
        assert row is not None
        db.session.expunge(row)
        return row


def scheduled_runs(app: Flask, policy_id: int) -> list[dict[str, Any]]:
    """The policy's runs (not dry runs), oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            select(PolicyRun)
            .where(PolicyRun.policy_id == policy_id, PolicyRun.kind != "dry_run")
            .order_by(PolicyRun.id)
        )
        return [
            {
                "outcome": r.outcome,
                "deletion_id": r.deletion_id,
                "taken": r.taken,
                "matched": r.matched,
                "slot_at": r.slot_at,
            }
            for r in rows
        ]


def ended_runs(app: Flask, policy_id: int) -> list[dict[str, Any]]:
    """The policy's runs that got past their claim (a deletion made, or why not)."""
    return [run for run in scheduled_runs(app, policy_id) if run["outcome"] != "started"]


def deletion_of(app: Flask, deletion_id: int) -> DeletionRequest:
    """A detached copy of a deletion request."""
    with app.app_context():
        row = db.session.get(DeletionRequest, deletion_id)
        assert row is not None
        db.session.expunge(row)
        return row


def test_the_dry_run_waits_for_someone_other_than_its_author(app: Flask) -> None:
    policy_id = add(app)
    policy = policy_row(app, policy_id)
    assert policy.state == "awaiting_approval" and policy.next_run_at is None
    assert policy.dry_run_count == 5
    assert policy.dry_run_ids == ["100001", "100002", "100003", "100004", "100005"]
    with app.app_context():
        with pytest.raises(policies.PolicyError, match="other than") as own:
            policies.approve_policy(policy_id, 1, actor="ana", reason="mine")
        assert own.value.reason == "own-policy"
        with pytest.raises(policies.PolicyError, match="changed since"):
            policies.approve_policy(policy_id, 2, actor="bob", reason="stale page")
        policies.approve_policy(policy_id, 1, actor="bob", reason="checked the list")
        with pytest.raises(policies.PolicyError, match="nothing to approve"):
            policies.approve_policy(policy_id, 1, actor="carl", reason="again")
    policy = policy_row(app, policy_id)
    assert (policy.state, policy.approved_by) == ("active", "bob")
    assert policy.next_run_at is not None and policy.next_run_at <= utcnow()


def test_a_changed_policy_needs_a_new_approval(app: Flask) -> None:
    policy_id = approved(app)
    rule = policies.PolicyRule("old-uploads", "id<=100002", 30, None, 3, "licence expired")
    with app.app_context():
        policies.change_policy(policy_id, rule, actor="carl")
        with pytest.raises(policies.PolicyError, match="dry run"):
            policies.approve_policy(policy_id, 2, actor="bob", reason="ok")
        policies.dry_run(policy_id, actor="carl")
    policy = policy_row(app, policy_id)
    assert (policy.state, policy.version, policy.dry_run_count) == ("awaiting_approval", 2, 2)
    assert policy.next_run_at is None and policy.approved_by is None


def test_a_scheduled_run_is_an_ordinary_deletion_listed_under_the_policy(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    policy_id = approved(app)
    cycle_until(poller, lambda: ended_runs(app, policy_id))
    [run] = scheduled_runs(app, policy_id)
    assert (run["outcome"], run["matched"], run["taken"]) == ("deleting", 5, 3)
    cycle_until(poller, lambda: deletion_of(app, run["deletion_id"]).state == "done")
    deletion = deletion_of(app, run["deletion_id"])
    assert deletion.actor == "policy:old-uploads"
    assert deletion.reason == "licence expired (retention policy old-uploads)"
    assert (deletion.selection_kind, deletion.selection_query) == ("query", QUERY)
    assert [sandbox.state.get_image(str(i)) for i in (100001, 100002, 100003)] == [None] * 3
    assert sandbox.state.get_image("100004") is not None  # at most 3 a run
    assert "deletion.ended" in actions(app, run["deletion_id"])
    with app.app_context():  # its receipt names who approved the policy's version
        approval = receipts.build(run["deletion_id"])["approval"]
    assert (approval["approver"], approval["policy"], approval["policy_version"]) == (
        "bob",
        "old-uploads",
        1,
    )
    policy = policy_row(app, policy_id)
    assert policy.next_run_at is not None and policy.next_run_at > utcnow() + timedelta(minutes=59)
    for _ in range(3):
        poller.run_once()
    assert len(scheduled_runs(app, policy_id)) == 1  # the next slot is an hour away


def test_a_slot_missed_while_nothing_polled_runs_once_after_a_restart(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    policy_id = approved(app, every=1, max_images=1)
    poller.close()  # nothing polls for ten minutes: ten slots go by
    missed = utcnow() - timedelta(minutes=10, seconds=30)
    with app.app_context():
        db.session.get(RetentionPolicy, policy_id).next_run_at = missed  # type: ignore[union-attr]
        db.session.commit()
    restarted = Poller(app)
    try:
        cycle_until(restarted, lambda: ended_runs(app, policy_id))
        first = scheduled_runs(app, policy_id)[0]
        cycle_until(restarted, lambda: deletion_of(app, first["deletion_id"]).state == "done")
        for _ in range(5):
            restarted.run_once()
    finally:
        restarted.close()
    assert len(scheduled_runs(app, policy_id)) == 1
    assert scheduled_runs(app, policy_id)[0]["slot_at"] == missed
    upcoming = policy_row(app, policy_id).next_run_at
    assert upcoming == missed + timedelta(minutes=11)  # the rhythm is kept, the misses dropped


def test_one_slot_is_claimed_once_and_a_run_waits_for_the_last_deletion(
    app: Flask, sandbox: SandboxServer
) -> None:
    policy_id = approved(app, every=1)
    # Two pollers read the same due slot; the first conditional UPDATE wins, the other none.
    seen_by_a, seen_by_b = policy_row(app, policy_id), policy_row(app, policy_id)
    now = utcnow()
    with app.app_context():
        assert runs.claim(seen_by_a, now) is not None
        assert runs.claim(seen_by_b, now) is None
    with app.app_context():
        policy = db.session.get(RetentionPolicy, policy_id)
        assert policy is not None
        policy.next_run_at = utcnow() - timedelta(seconds=5)  # due again
        run = db.session.scalars(select(PolicyRun).where(PolicyRun.kind == "scheduled")).one()
        deletion = DeletionRequest(
            actor="policy:old-uploads",
            reason="r",
            ids_sha256="0" * 64,
            state="submitted",
            item_count=1,
        )
        db.session.add(deletion)
        db.session.flush()
        run.deletion_id = deletion.id
        db.session.commit()
        assert runs.run_slot(policy_id) is None  # its last deletion still runs
        deletion.state = "done"
        db.session.commit()
        assert runs.run_slot(policy_id) is not None


def test_a_paused_policy_does_not_run_until_resumed(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    policy_id = approved(app)
    with app.app_context():
        policies.pause_policy(policy_id, actor="carl")
    for _ in range(5):
        poller.run_once()
    assert scheduled_runs(app, policy_id) == []
    assert sandbox.state.get_image("100001") is not None
    with app.app_context():
        policies.resume_policy(policy_id, actor="carl")
        with pytest.raises(policies.PolicyError, match="only a paused policy"):
            policies.resume_policy(policy_id, actor="carl")
    assert policy_row(app, policy_id).state == "active"
    cycle_until(poller, lambda: ended_runs(app, policy_id))


@pytest.mark.parametrize("app_overrides", [{**FAST, "WESOG_APPROVAL_THRESHOLD": 2}])
def test_a_run_above_the_approval_threshold_waits_like_any_deletion(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    policy_id = approved(app, every=1, max_images=3)
    cycle_until(poller, lambda: ended_runs(app, policy_id))
    [run] = ended_runs(app, policy_id)
    assert deletion_of(app, run["deletion_id"]).state == "awaiting_approval"
    with app.app_context():  # due again, but its deletion has not ended: no second run
        db.session.get(RetentionPolicy, policy_id).next_run_at = utcnow()  # type: ignore[union-attr]
        db.session.commit()
    for _ in range(5):
        poller.run_once()
    with app.app_context():
        assert runs.run_slot(policy_id) is None
    assert len(scheduled_runs(app, policy_id)) == 1
    assert sandbox.state.get_image("100001") is not None
