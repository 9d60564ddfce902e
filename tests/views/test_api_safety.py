"""The safety net through /api/v1 against the real sandbox and a real poller: pause and resume
in flight, cancel, undo in and after its window, retry of only the failures, restore, the CSV
report; refusals, scopes, roles and read-only as problem documents; the audit trail."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import AuthActions, cycle_until, deletes_received
from tests.conftest import request_deletion as request
from tests.deletions.test_deletions import FAST, deletion_state, items
from tests.views.test_api_v1 import bearer, token_for
from tests.views.test_deletions import post_delete, settle
from wesog_dash import accounts
from wesog_dash.accounts import tokens
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent, DeletionRequest, utcnow
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer, SandboxSettings

QUICK = {"api_key": "test-key-5f3a", "images": 60, "item_ms": 0, "start_ms": 0}
ACTIONS = ("undo", "pause", "resume", "cancel", "retry", "restore")
PROBLEMS = "https://wesog-dash/problems/"


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling; chunks of 5 ids, one operation in flight at a time."""
    return {**FAST, "WESOG_CHUNK_SIZE": 5, "WESOG_MAX_INFLIGHT_OPS": 1}


@pytest.fixture
def otto(app: Flask) -> dict[str, str]:
    """The Authorization header of an operator's operate token."""
    return bearer(token_for(app, "otto", "operator"))


def act(
    client: FlaskClient, headers: dict[str, str], deletion_id: int, action: str, **query: str
) -> Any:
    """POST /api/v1/deletions/<id>/<action>, no body, no CSRF token."""
    return client.post(
        f"/api/v1/deletions/{deletion_id}/{action}", headers=headers, query_string=query
    )


def problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    """Check an RFC 9457 answer of one type; its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["type"] == PROBLEMS + slug and body["status"] == status
    assert body["title"] and body["detail"]
    return body


def audit_rows(app: Flask) -> list[dict[str, Any]]:
    """Every audit event, oldest first, as plain values."""
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        return [
            {
                "action": r.action,
                "actor": r.actor,
                "deletion_id": r.deletion_id,
                "details": r.details,
                "text": json.dumps(
                    [r.actor, r.action, r.image_id, r.reason, r.outcome, r.details, r.remote_addr],
                    default=str,
                ),
            }
            for r in rows
        ]


def create(client: FlaskClient, headers: dict[str, str], ids: list[str]) -> int:
    """A deletion through the API (sent at once); its id."""
    body = {"image_ids": ids, "reason": "takedown"}
    response = client.post("/api/v1/deletions", json=body, headers=headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    return int(response.json["id"])


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(**QUICK, hold=True)])
def test_pause_then_resume_a_deletion_in_flight(
    app: Flask, client: FlaskClient, otto: dict[str, str], sandbox: SandboxServer, poller: Poller
) -> None:
    ids = [str(100001 + n) for n in range(15)]  # three chunks of five
    deletion_id = create(client, otto, ids)
    poller.run_once()  # the first chunk is sent and stays queued upstream (hold)
    paused = act(client, otto, deletion_id, "pause")
    assert paused.status_code == 200 and paused.mimetype == "application/json"
    # Paused, while the chunk already sent still runs upstream: `pausing` until it ends.
    assert paused.json["id"] == deletion_id and paused.json["state"] == "pausing"
    shown = client.get(f"/api/v1/deletions/{deletion_id}", headers=otto).json
    assert paused.json == {**shown, "answer": f"Deletion #{deletion_id} paused."}
    assert act(client, otto, deletion_id, "pause").json["state"] == "pausing"  # the same
    sandbox.settings.hold = False
    sandbox.state.wake()
    cycle_until(
        poller, lambda: sum(i["outcome"] == "deleted" for i in items(app, deletion_id)) == 5
    )
    for _ in range(3):
        poller.run_once()
    assert deletes_received(sandbox) == 1 and deletion_state(app, deletion_id).state == "paused"
    resumed = act(client, otto, deletion_id, "resume")
    assert resumed.status_code == 200 and resumed.json["state"] == "pending"
    problem(act(client, otto, deletion_id, "resume"), 409, "not-paused")
    assert settle(app, poller, deletion_id) == "done"
    assert deletes_received(sandbox) == 3 and all(sandbox.state.get_image(i) is None for i in ids)
    done = [(e["action"], e["actor"]) for e in audit_rows(app) if e["deletion_id"] == deletion_id]
    assert ("deletion.paused", "otto") in done and ("deletion.resumed", "otto") in done


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(**QUICK, hold=True)])
def test_cancel_drops_unsent_chunks_and_the_queued_operation(
    app: Flask, client: FlaskClient, otto: dict[str, str], sandbox: SandboxServer, poller: Poller
) -> None:
    ids = [str(100011 + n) for n in range(10)]
    deletion_id = create(client, otto, ids)
    poller.run_once()  # chunk one is sent and stays queued upstream (hold)
    cancelled = act(client, otto, deletion_id, "cancel")
    assert cancelled.status_code == 200 and cancelled.json["state"] == "cancelled"
    assert cancelled.json["outcome_counts"] == {"cancelled": 5, "not_sent": 5}
    assert sandbox.state.stats["DELETE /ops/{op_id}"] == 1
    again = act(client, otto, deletion_id, "cancel")  # a second click: the same result
    assert again.status_code == 200 and again.json["state"] == "cancelled"
    assert again.json["answer"] == "This deletion is already cancelled."
    assert sandbox.state.stats["DELETE /ops/{op_id}"] == 1
    sandbox.settings.hold = False
    sandbox.state.wake()
    poller.run_once()
    assert all(sandbox.state.get_image(i) is not None for i in ids)  # nothing deleted
    [event] = [e for e in audit_rows(app) if e["action"] == "deletion.cancelled"]
    assert event["actor"] == "otto" and event["details"]["dropped"] == 5


@pytest.mark.parametrize(
    "sandbox_settings", [SandboxSettings(**QUICK, hold=True, cancel_supported=False)]
)
def test_a_cancel_the_wesog_api_cannot_do_is_a_409_and_changes_nothing(
    app: Flask, client: FlaskClient, otto: dict[str, str], poller: Poller
) -> None:
    deletion_id = create(client, otto, ["100021", "100022"])
    poller.run_once()
    body = problem(act(client, otto, deletion_id, "cancel"), 409, "cancel-refused-upstream")
    assert body["detail"] == "Nothing was cancelled. This Wesog API cannot cancel operations."
    assert deletion_state(app, deletion_id).state == "submitted"  # it runs on, as it is


class TestUndo:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {**FAST, "WESOG_UNDO_SECONDS": 30}

    def test_a_browser_deletion_is_undone_by_token_within_its_window_and_409_after(
        self,
        app: Flask,
        client: FlaskClient,
        auth: AuthActions,
        otto: dict[str, str],
        sandbox: SandboxServer,
        poller: Poller,
    ) -> None:
        csrf = auth.login("operator")
        made = post_delete(client, csrf, ["100007", "100008"], selection_kind="list")
        deletion_id = int(made.headers["Location"].rsplit("/", 1)[1])
        shown = client.get(f"/api/v1/deletions/{deletion_id}", headers=otto).json
        assert shown["state"] == "scheduled" and shown["send_at"]
        undone = act(client, otto, deletion_id, "undo")
        assert undone.status_code == 200 and undone.json["state"] == "cancelled"
        assert undone.json["outcome_counts"] == {"not_sent": 2}
        assert undone.json["message"] == "undone by otto before anything was sent"
        poller.run_once()
        assert deletes_received(sandbox) == 0 and sandbox.state.get_image("100007") is not None
        again = act(client, otto, deletion_id, "undo")  # a second click: the same answer
        assert again.status_code == 200 and again.json["answer"] == undone.json["answer"]
        [event] = [e for e in audit_rows(app) if e["action"] == "deletion.undone"]
        assert (event["actor"], event["deletion_id"]) == ("otto", deletion_id)
        # Another one, whose window ends: sent, then too late.
        later = request(app, ["100009"], undo_seconds=30)
        with app.app_context():
            row = db.session.get(DeletionRequest, later)
            row.send_at = row.next_attempt_at = utcnow()
            db.session.commit()
        cycle_until(poller, lambda: deletion_state(app, later).state == "done")
        problem(act(client, otto, later, "undo"), 409, "undo-window-closed")
        assert sandbox.state.get_image("100009") is None
        # An API deletion has no window at all.
        sent = create(client, otto, ["100010"])
        problem(act(client, otto, sent, "undo"), 409, "undo-window-closed")


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(**QUICK, fail_rate=0.5)])
def test_retry_sends_only_the_failed_ids(
    app: Flask, client: FlaskClient, otto: dict[str, str], sandbox: SandboxServer, poller: Poller
) -> None:
    ids = [str(100031 + n) for n in range(5)]  # one chunk: one operation
    parent = create(client, otto, ids)
    assert settle(app, poller, parent) == "done_with_errors"
    failed = [i["image_id"] for i in items(app, parent) if i["outcome"] == "failed"]
    assert 0 < len(failed) < len(ids)  # the seeded sandbox fails some, not all
    problem(act(client, otto, parent, "retry", image_id="100099"), 409, "nothing-to-retry")
    sandbox.settings.fail_rate = 0.0
    retried = act(client, otto, parent, "retry")
    assert retried.status_code == 202, retried.get_data(as_text=True)
    child = retried.json
    assert retried.headers["Location"] == f"/api/v1/deletions/{child['id']}"
    assert child["retry_of_id"] == parent and child["actor"] == "otto"
    assert [item["image_id"] for item in child["items"]] == failed
    assert settle(app, poller, child["id"]) == "done"
    [op_id] = client.get(retried.headers["Location"], headers=otto).json["op_ids"]
    sent = client.get(f"/api/v1/ops/{op_id}", headers=otto).json
    assert sent["num_total"] == len(failed) and sent["num_good"] == len(failed)
    assert all(sandbox.state.get_image(i) is None for i in ids)
    body = problem(act(client, otto, child["id"], "retry"), 409, "nothing-to-retry")
    assert body["detail"] == f"Deletion #{child['id']} has no failed image to retry."
    [event] = [e for e in audit_rows(app) if e["action"] == "deletion.retried"]
    assert event["actor"] == "otto" and event["details"]["retry_id"] == child["id"]


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(**QUICK)])
def test_restore_of_a_finished_deletion(
    app: Flask, client: FlaskClient, otto: dict[str, str], sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = create(client, otto, ["100041", "100042"])
    problem(act(client, otto, deletion_id, "restore"), 409, "nothing-to-restore")  # not yet
    assert settle(app, poller, deletion_id) == "done"
    assert sandbox.state.get_image("100041") is None
    sandbox.settings.rate_5xx = 1.0  # the Wesog API is failing: nothing is marked restored
    problem(act(client, otto, deletion_id, "restore"), 502, "upstream-unavailable")
    sandbox.settings.rate_5xx = 0.0
    restored = act(client, otto, deletion_id, "restore")
    assert restored.status_code == 202 and restored.json["id"] == deletion_id
    location = restored.headers["Location"]
    assert location.startswith("/api/v1/ops/")

    def finished() -> bool:
        poller.run_once()
        return bool(client.get(location, headers=otto).json["is_finished"])

    cycle_until(poller, finished)
    assert client.get(location, headers=otto).json["num_good"] == 2
    assert sandbox.state.get_image("100041") is not None
    assert sandbox.state.get_image("100042") is not None
    problem(act(client, otto, deletion_id, "restore"), 409, "nothing-to-restore")
    [event] = [e for e in audit_rows(app) if e["action"] == "image.restore_requested"]
    assert event["actor"] == "otto" and event["details"]["images"] == 2


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(**QUICK)])
def test_the_csv_report_with_a_read_token(
    app: Flask, client: FlaskClient, otto: dict[str, str], poller: Poller
) -> None:
    deletion_id = create(client, otto, ["100051", "100052", "100053"])
    settle(app, poller, deletion_id)
    with app.app_context():
        user = accounts.create_user("rita", "correct horse battery", "viewer", actor="cli:test")
        reader = bearer(tokens.issue(user, actor="cli:test", scope="read").token)
    report = client.get(f"/api/v1/deletions/{deletion_id}/report.csv", headers=reader)
    assert report.status_code == 200
    assert report.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert report.headers["Content-Disposition"] == (
        f'attachment; filename="deletion-{deletion_id}-report.csv"'
    )
    rows = list(csv.reader(io.StringIO(report.get_data(as_text=True))))
    assert rows[0] == ["image_id", "title", "outcome", "message", "operation", "time"]
    assert len(rows) == 4 and [row[0] for row in rows[1:]] == ["100051", "100052", "100053"]
    assert {row[2] for row in rows[1:]} == {"deleted"}
    problem(client.get("/api/v1/deletions/999/report.csv", headers=reader), 404, "not-found")


def test_read_tokens_viewers_and_unknown_ids_get_problems_and_nothing_changes(
    app: Flask, client: FlaskClient, otto: dict[str, str], sandbox: SandboxServer
) -> None:
    deletion_id = request(app, ["100061", "100062"], kind="list", undo_seconds=300)
    with app.app_context():
        owner = accounts.find_user("otto")
        read_token = bearer(tokens.issue(owner, actor="cli:test", scope="read").token)
    viewer = bearer(token_for(app, "vera", "viewer"))
    before = len(audit_rows(app))
    for action in ACTIONS:
        body = problem(act(client, read_token, deletion_id, action), 403, "insufficient-scope")
        assert "operate" in body["detail"]
        assert act(client, viewer, deletion_id, action).status_code == 403
        problem(act(client, otto, 2**31 - 1, action), 404, "not-found")
        problem(act(client, {}, deletion_id, action), 401, "unauthorized")
    assert deletion_state(app, deletion_id).state == "scheduled"
    assert [e["action"] for e in audit_rows(app)[before:]] == []
    assert deletes_received(sandbox) == 0


@pytest.mark.parametrize("app_overrides", [{**FAST, "WESOG_READ_ONLY": True}])
def test_read_only_allows_taking_back_but_not_sending(
    app: Flask, client: FlaskClient, otto: dict[str, str], sandbox: SandboxServer
) -> None:
    first = request(app, ["100071"], undo_seconds=300)
    second = request(app, ["100072"], undo_seconds=300)
    for action in ("resume", "retry", "restore"):
        body = problem(act(client, otto, first, action), 403, "read-only")
        assert "read-only" in body["detail"]
    assert act(client, otto, first, "pause").json["state"] == "paused"
    assert act(client, otto, first, "cancel").json["state"] == "cancelled"
    assert act(client, otto, second, "undo").json["state"] == "cancelled"
    assert deletes_received(sandbox) == 0


def test_the_audit_trail_names_the_tokens_user_and_never_the_token(
    app: Flask, client: FlaskClient, sandbox: SandboxServer
) -> None:
    secret = token_for(app, "otto", "operator")
    deletion_id = request(app, ["100081", "100082"], kind="list", undo_seconds=300)
    for action in ("pause", "resume", "pause", "cancel"):
        assert act(client, bearer(secret), deletion_id, action).status_code == 200
    events = [e for e in audit_rows(app) if e["deletion_id"] == deletion_id]
    assert [e["action"] for e in events] == [
        "deletion.requested",
        "deletion.paused",
        "deletion.resumed",
        "deletion.paused",
        "deletion.cancelled",
        "deletion.ended",
    ]
    assert {e["actor"] for e in events[1:]} == {"otto"}
    body = secret.split("_", 1)[-1]
    assert not any(secret in e["text"] or body in e["text"] for e in audit_rows(app))
