"""Retention policies through the browser, the API and the CLI: made by one person, its dry
run shown, refused to its author, approved by another, run by the poller, listed with its
deletion, paused."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions, cycle_until
from tests.deletions.test_deletions import FAST
from tests.policies.test_policies import QUERY, ended_runs
from tests.views.test_api_v1 import bearer, token_for
from wesog_dash import policies
from wesog_dash.extensions import db
from wesog_dash.models import utcnow
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer

FORM = {
    "name": "old-uploads",
    "query": QUERY,
    "every_minutes": "60",
    "cron": "",
    "max_images": "3",
    "reason": "licence expired",
}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling."""
    return dict(FAST)


def second_operator(app: Flask) -> tuple[FlaskClient, str]:
    """Another browser, logged in as the operator bob; (client, CSRF token)."""
    other = app.test_client()
    return other, AuthActions(app, other).login("operator", username="bob")


def test_made_in_the_browser_approved_by_someone_else_and_run(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller, sandbox: SandboxServer
) -> None:
    token = auth.login("operator", username="ana")
    created = client.post("/policies", data={**FORM, "csrf_token": token})
    assert created.status_code == 303
    page_url = created.headers["Location"]
    page = client.get(page_url).get_data(as_text=True)
    assert re.search(r"<strong>5</strong> images matched", page)
    assert "100005" in page and "someone else must approve it" in page
    assert 'id="approve-policy"' not in page
    policy_id = int(page_url.rsplit("/", 1)[1])
    own = client.post(
        f"/policies/{policy_id}/approve",
        data={"csrf_token": token, "reason": "mine", "seen": "1"},
    )
    assert own.status_code == 403
    assert "Someone other than the policy&#39;s author" in own.get_data(as_text=True)
    bob, bob_token = second_operator(app)
    shown = bob.get(page_url).get_data(as_text=True)
    assert 'id="approve-policy"' in shown
    approved = bob.post(
        f"/policies/{policy_id}/approve",
        data={"csrf_token": bob_token, "reason": "checked the list", "seen": "1"},
    )
    assert approved.status_code == 303
    cycle_until(poller, lambda: ended_runs(app, policy_id))
    page = client.get(page_url).get_data(as_text=True)
    assert "deletion #" in page and "by bob" in page
    listing = client.get("/policies").get_data(as_text=True)
    assert "old-uploads" in listing and 'data-state="active"' in listing


def test_a_bad_policy_is_refused_with_its_reason(client: FlaskClient, auth: AuthActions) -> None:
    token = auth.login("operator", username="ana")
    both = client.post("/policies", data={**FORM, "cron": "0 3 * * *", "csrf_token": token})
    assert both.status_code == 422
    assert "either how often in minutes or a cron expression" in both.get_data(as_text=True)
    bad_cron = client.post(
        "/policies", data={**FORM, "every_minutes": "", "cron": "every day", "csrf_token": token}
    )
    assert bad_cron.status_code == 422 and "five fields" in bad_cron.get_data(as_text=True)


def test_the_api_refuses_the_author_and_a_changed_version(app: Flask, client: FlaskClient) -> None:
    ana = bearer(token_for(app, "ana", "operator"))
    bob = bearer(token_for(app, "bob", "operator"))
    body = {
        "name": "nightly",
        "query": QUERY,
        "cron": "0 3 * * *",
        "max_images": 10,
        "reason": "licence expired",
    }
    created = client.post("/api/v1/policies", json=body, headers=ana)
    assert created.status_code == 201, created.get_data(as_text=True)
    policy = created.get_json()
    assert (policy["state"], policy["dry_run_count"], policy["version"]) == (
        "awaiting_approval",
        5,
        1,
    )
    url = created.headers["Location"]
    own = client.post(f"{url}/approve", json={"version": 1, "reason": "me"}, headers=ana)
    assert own.status_code == 403 and own.get_json()["type"].endswith("/own-request")
    stale = client.post(f"{url}/approve", json={"version": 2, "reason": "ok"}, headers=bob)
    assert stale.status_code == 409
    assert stale.get_json()["type"].endswith("/not-awaiting-approval")
    done = client.post(f"{url}/approve", json={"version": 1, "reason": "ok"}, headers=bob)
    assert done.status_code == 200 and done.get_json()["state"] == "active"
    assert done.get_json()["next_run_at"] is not None  # the next 03:00 UTC
    paused = client.post(f"{url}/pause", headers=bob)
    assert paused.get_json()["state"] == "paused"
    again = client.post(f"{url}/pause", headers=bob)
    assert again.status_code == 409 and again.get_json()["type"].endswith("/policy-state")
    listed = client.get("/api/v1/policies", headers=ana).get_json()["items"]
    assert [p["name"] for p in listed] == ["nightly"]
    taken = client.post("/api/v1/policies", json=body, headers=ana)
    assert taken.status_code == 409 and taken.get_json()["type"].endswith("/policy-exists")


def test_the_cli_adds_lists_dry_runs_and_pauses(runner: Any) -> None:
    added = runner.invoke(
        args=[
            "wesog",
            "policy",
            "add",
            "weekly",
            "--query",
            QUERY,
            "--every",
            "10080",
            "--max",
            "2",
            "--reason",
            "rejected uploads",
        ]
    )
    assert added.exit_code == 0, added.output
    assert "Dry run: 5 images match; one run would delete 2." in added.output
    assert "  100001" in added.output
    listed = runner.invoke(args=["wesog", "policy", "list"])
    assert "weekly\tawaiting_approval\tevery 10080 min\tmax 2" in listed.output
    dry = runner.invoke(args=["wesog", "policy", "run", "weekly", "--dry-run"])
    assert dry.exit_code == 0 and "5 images match" in dry.output
    not_yet = runner.invoke(args=["wesog", "policy", "run", "weekly"])
    assert not_yet.exit_code == 1 and "only an active one runs" in not_yet.output
    with runner.app.app_context():
        policy = policies.find_policy("weekly")
        policies.approve_policy(policy.id, 1, actor="bob", reason="checked")
        policy.next_run_at = utcnow() + timedelta(days=7)
        db.session.commit()
    due = runner.invoke(args=["wesog", "policy", "run", "weekly"])
    assert due.exit_code == 0 and "due now" in due.output
    with runner.app.app_context():
        assert policies.find_policy("weekly").next_run_at <= utcnow()  # type: ignore[operator]
    paused = runner.invoke(args=["wesog", "policy", "pause", "weekly"])
    assert paused.exit_code == 0 and "paused" in paused.output
    unknown = runner.invoke(args=["wesog", "policy", "pause", "nope"])
    assert unknown.exit_code == 4
