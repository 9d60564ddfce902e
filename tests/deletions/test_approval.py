"""Four eyes on big deletions against the real sandbox and a real poller: held above the
threshold with nothing sent, refused to the requester, sent once someone else approves,
ended without sending by a rejection or by expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from tests.conftest import cycle_until, deletes_received
from tests.conftest import request_deletion as request
from tests.deletions.test_deletions import FAST, actions, deletion_state, items
from wesog_dash import deletions
from wesog_dash.audit import receipts
from wesog_dash.extensions import db
from wesog_dash.models import DeletionRequest, utcnow
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

TWENTY = [str(100001 + n) for n in range(20)]


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling; more than 10 images need a second person."""
    return {**FAST, "WESOG_APPROVAL_THRESHOLD": 10}


def test_twenty_images_wait_for_approval_and_nothing_is_sent(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(app, TWENTY, kind="list")
    assert deletion_state(app, deletion_id).state == "awaiting_approval"
    for _ in range(5):
        poller.run_once()
    assert deletes_received(sandbox) == 0
    assert deletion_state(app, deletion_id).state == "awaiting_approval"
    assert {item["outcome"] for item in items(app, deletion_id)} == {"pending"}
    with app.app_context():
        assert [d.id for d in deletions.waiting()] == [deletion_id]


def test_the_requester_cannot_approve_and_another_operator_sends_it(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(app, TWENTY, kind="list")  # asked by alice
    with app.app_context():
        with pytest.raises(deletions.ApprovalError, match="someone else") as own:
            deletions.approve(deletion_id, actor="alice", reason="mine")
        assert own.value.reason == "own-request"
        with pytest.raises(deletions.ApprovalError, match="not the list"):
            deletions.approve(deletion_id, actor="bob", reason="ok", seen_sha256="0" * 64)
        sha = deletions.get_deletion(deletion_id).ids_sha256  # type: ignore[union-attr]
        deletions.approve(deletion_id, actor="bob", reason="checked the ticket", seen_sha256=sha)
        with pytest.raises(deletions.ApprovalError, match="not waiting"):
            deletions.approve(deletion_id, actor="carl", reason="twice")
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done")
    assert deletes_received(sandbox) >= 1
    assert all(sandbox.state.get_image(i) is None for i in TWENTY)
    assert actions(app, deletion_id)[:2] == ["deletion.requested", "deletion.approved"]
    with app.app_context():
        receipt = receipts.build(deletion_id)
    assert receipt["approval"]["approver"] == "bob"
    assert receipt["approval"]["reason"] == "checked the ticket"


def test_a_rejected_request_ends_without_sending(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(app, TWENTY, kind="list")
    with app.app_context():
        deletions.reject(deletion_id, actor="bob", reason="wrong tenant")
        with pytest.raises(deletions.ApprovalError, match="not waiting"):
            deletions.approve(deletion_id, actor="carl", reason="too late")
    for _ in range(3):
        poller.run_once()
    deletion = deletion_state(app, deletion_id)
    assert deletion.state == "cancelled" and deletion.message == "rejected by bob: wrong tenant"
    assert {item["outcome"] for item in items(app, deletion_id)} == {"not_sent"}
    assert deletes_received(sandbox) == 0
    assert "deletion.rejected" in actions(app, deletion_id)


def test_a_request_nobody_approves_in_time_expires_without_sending(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(app, TWENTY, kind="list")
    fresh = request(app, [str(100031 + n) for n in range(11)], kind="list")
    with app.app_context():
        row = db.session.get(DeletionRequest, deletion_id)
        assert row is not None
        row.created_at = utcnow() - timedelta(hours=72, minutes=1)  # asked three days ago
        db.session.commit()
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "cancelled")
    assert deletion_state(app, deletion_id).message == "expired: not approved within 72 h"
    assert deletion_state(app, fresh).state == "awaiting_approval"
    assert "deletion.expired" in actions(app, deletion_id)
    assert deletes_received(sandbox) == 0


def test_below_the_threshold_nothing_waits_but_every_match_of_a_search_does(app: Flask) -> None:
    small = request(app, TWENTY[:10], kind="list")
    assert deletion_state(app, small).state == "pending"
    search = request(app, ["100041"], kind="query", query="id=100041")
    assert deletion_state(app, search).state == "awaiting_approval"
    with app.app_context():  # a retention policy's run is held by the threshold alone
        run = deletions.request_deletion(
            ["100042"],
            deletions.DeletionOptions("policy"),
            deletions.Requester("policy:weekly"),
            kind="query",
            query="id=100042",
            send_inline=False,
        )
        assert run.state == "pending"


@pytest.mark.parametrize("app_overrides", [dict(FAST)])
def test_approvals_are_off_by_default(app: Flask) -> None:
    deletion_id = request(app, TWENTY, kind="query", query="id<=100020")
    assert deletion_state(app, deletion_id).state == "pending"
