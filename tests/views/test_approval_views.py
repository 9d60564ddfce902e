"""Four eyes through the browser, the API and the CLI: the requester's approve is refused,
another operator sees exactly what was confirmed and sends it, a rejection sends nothing; a
new request raises an alert when alerts are set."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.alerts.test_alerts import Receiver
from tests.conftest import AuthActions, cycle_until, deletes_received, wait_for
from tests.conftest import request_deletion as request
from tests.deletions.test_approval import TWENTY
from tests.deletions.test_deletions import FAST, deletion_state
from tests.views.test_api_v1 import bearer, token_for
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling; more than 10 images need a second person."""
    return {**FAST, "WESOG_APPROVAL_THRESHOLD": 10}


def ask_in_the_browser(client: FlaskClient, token: str) -> int:
    """Twenty ticked images deleted from the browser; the new deletion's id."""
    response = client.post(
        "/deletions",
        data={
            "image_ids": TWENTY,
            "reason": "takedown notice",
            "selection_kind": "list",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_another_operator_approves_what_the_requester_confirmed(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller, sandbox: SandboxServer
) -> None:
    token = auth.login("operator", username="ana")
    deletion_id = ask_in_the_browser(client, token)
    page = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
    sha = deletion_state(app, deletion_id).ids_sha256
    assert "Waiting for approval" in page and sha in page
    assert page.count('<img src="') >= 20 and "100020" in page
    assert 'id="approve-form"' not in page and "someone else must approve it" in page
    own = client.post(
        f"/deletions/{deletion_id}/approve",
        data={"csrf_token": token, "reason": "mine", "seen": sha},
    )
    assert own.status_code == 403 and "someone else must approve it" in own.get_data(as_text=True)
    for _ in range(3):
        poller.run_once()
    assert deletes_received(sandbox) == 0
    bob = app.test_client()
    bob_token = AuthActions(app, bob).login("operator", username="bob")
    overview = bob.get("/").get_data(as_text=True)
    assert "Waiting for approval" in overview and "Review and approve" in overview
    shown = bob.get(f"/deletions/{deletion_id}").get_data(as_text=True)
    assert re.search(rf'name="seen"[^>]*value="{sha}"', shown)
    approved = bob.post(
        f"/deletions/{deletion_id}/approve",
        data={"csrf_token": bob_token, "reason": "ticket checked", "seen": sha},
    )
    assert approved.status_code == 303
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done")
    page = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
    assert "Approved by" in page and "bob" in page and "ticket checked" in page


def test_the_requesters_page_redraws_once_someone_else_decides(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    token = auth.login("operator", username="ana")
    deletion_id = ask_in_the_browser(client, token)
    url = f"/deletions/{deletion_id}/live?held=1"
    assert "HX-Refresh" not in client.get(url, headers={"HX-Request": "true"}).headers
    bob = app.test_client()
    bob_token = AuthActions(app, bob).login("operator", username="bob")
    rejected = bob.post(
        f"/deletions/{deletion_id}/reject", data={"csrf_token": bob_token, "reason": "no"}
    )
    assert rejected.status_code == 303
    assert client.get(url, headers={"HX-Request": "true"}).headers.get("HX-Refresh") == "true"
    assert deletion_state(app, deletion_id).state == "cancelled"


def test_the_api_refuses_the_requester_and_lets_another_operator_decide(
    app: Flask, client: FlaskClient, poller: Poller, sandbox: SandboxServer
) -> None:
    ana = bearer(token_for(app, "ana", "operator"))
    bob = bearer(token_for(app, "bob", "operator"))
    body = {"image_ids": TWENTY, "reason": "takedown"}
    created = client.post("/api/v1/deletions", json=body, headers=ana)
    assert created.status_code == 202 and created.get_json()["state"] == "awaiting_approval"
    deletion_id = created.get_json()["id"]
    url = f"/api/v1/deletions/{deletion_id}"
    own = client.post(f"{url}/approve", json={"reason": "mine"}, headers=ana)
    assert own.status_code == 403 and own.get_json()["type"].endswith("/own-request")
    assert client.post(f"{url}/approve", json={}, headers=bob).status_code == 400
    other_list = {"reason": "ok", "ids_sha256": "0" * 64}
    assert client.post(f"{url}/approve", json=other_list, headers=bob).status_code == 409
    sha = created.get_json()["ids_sha256"]
    done = client.post(f"{url}/approve", json={"reason": "ok", "ids_sha256": sha}, headers=bob)
    assert done.status_code == 200 and done.get_json()["state"] == "pending"
    twice = client.post(f"{url}/approve", json={"reason": "ok"}, headers=bob)
    assert twice.status_code == 409
    assert twice.get_json()["type"].endswith("/not-awaiting-approval")
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done")
    other = client.post("/api/v1/deletions", json=body, headers=ana).get_json()["id"]
    rejected = client.post(
        f"/api/v1/deletions/{other}/reject", json={"reason": "wrong"}, headers=bob
    )
    assert rejected.status_code == 200 and rejected.get_json()["state"] == "cancelled"


def test_the_cli_approves_and_rejects(app: Flask, runner: Any) -> None:
    first = request(app, TWENTY, kind="list")
    second = request(app, TWENTY, kind="list")
    approved = runner.invoke(args=["wesog", "approve", str(first)])
    assert approved.exit_code == 0, approved.output
    assert "20 images" in approved.output and "approved" in approved.output
    assert deletion_state(app, first).state == "pending"
    rejected = runner.invoke(args=["wesog", "reject", str(second), "--reason", "duplicate"])
    assert rejected.exit_code == 0 and deletion_state(app, second).state == "cancelled"
    again = runner.invoke(args=["wesog", "reject", str(second), "--reason", "again"])
    assert again.exit_code == 1 and "not waiting for approval" in again.output
    assert runner.invoke(args=["wesog", "approve", "9999"]).exit_code == 4


class TestAlerts:
    @pytest.fixture
    def receiver(self) -> Any:
        """A local webhook receiver."""
        server = Receiver()
        yield server
        server.server.shutdown()

    @pytest.fixture
    def app_overrides(self, receiver: Receiver) -> dict[str, Any]:
        """Alerts on; approvals above 10 images."""
        return {**FAST, "WESOG_APPROVAL_THRESHOLD": 10, "WESOG_ALERT_URL": receiver.url}

    def test_a_new_request_raises_one_alert(
        self, app: Flask, poller: Poller, receiver: Receiver
    ) -> None:
        deletion_id = request(app, TWENTY, kind="list")

        def alerted() -> list[dict[str, Any]]:
            poller.run_once()
            return [p for p in receiver.payloads() if p["kind"] == "deletion.awaiting_approval"]

        [alert] = wait_for(alerted, timeout=15)
        assert f"Deletion #{deletion_id} by alice waits for approval (20 images)" in alert["text"]
        for _ in range(3):
            poller.run_once()
        assert len(alerted()) == 1
