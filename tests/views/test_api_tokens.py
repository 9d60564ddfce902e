"""Token scopes, expiry and revocation: refused with problem+json 401/403, and audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from tests.conftest import TEST_PASSWORD, AuthActions
from tests.views.test_api_v1 import bearer
from wesog_dash import accounts
from wesog_dash.accounts import tokens
from wesog_dash.extensions import db
from wesog_dash.models import ApiToken, AuditEvent, DeletionRequest, utcnow

BODY = {"image_ids": ["100001"], "reason": "takedown"}


def issue(app: Flask, username: str, role: str, **options) -> tokens.IssuedToken:
    """A user with `role` and a token issued with `options`."""
    with app.app_context():
        user = accounts.find_user(username) or accounts.create_user(
            username, TEST_PASSWORD, role, actor="cli:test"
        )
        return tokens.issue(user, actor="cli:test", **options)


def refusals(app: Flask) -> list[AuditEvent]:
    """The audited refused uses of dead tokens."""
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.action == "token.refused")
        return list(db.session.scalars(query.order_by(AuditEvent.id)))


def test_a_read_token_of_an_operator_can_read_but_cannot_create_a_deletion(app, client) -> None:
    read = issue(app, "otto", "operator", scope="read", label="dashboards")
    assert client.get("/api/v1/me", headers=bearer(read.token)).json["scope"] == "read"
    assert client.get("/api/v1/deletions", headers=bearer(read.token)).status_code == 200
    response = client.post("/api/v1/deletions", json=BODY, headers=bearer(read.token))
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "https://wesog-dash/problems/insufficient-scope"
    with app.app_context():
        assert db.session.scalar(select(DeletionRequest.id)) is None


def test_without_a_scope_a_token_may_do_what_the_role_allows(app) -> None:
    assert issue(app, "vera", "viewer").scope == "read"
    assert issue(app, "otto", "operator").scope == "operate"
    assert issue(app, "root", "admin").scope == "operate"
    with pytest.raises(accounts.AccountError, match="can only read"):
        issue(app, "vera", "viewer", scope="operate")


def test_an_operate_token_still_needs_the_role_after_a_demotion(app, client) -> None:
    issue(app, "root", "admin")
    token = issue(app, "otto", "operator").token
    with app.app_context():
        accounts.set_role("otto", "viewer", actor="cli:test")
    response = client.post("/api/v1/deletions", json=BODY, headers=bearer(token))
    assert response.status_code == 403 and response.json["type"].endswith("/forbidden")


def test_tokens_expire_after_90_days_by_default_and_are_then_refused(app, client) -> None:
    issued = issue(app, "otto", "operator")
    left = issued.expires_at - utcnow()
    assert timedelta(days=89, hours=23) < left <= timedelta(days=90)
    with app.app_context():
        db.session.execute(
            update(ApiToken).where(ApiToken.id == issued.id).values(expires_at=utcnow())
        )
        db.session.commit()
    for _ in range(2):
        response = client.get("/api/v1/me", headers=bearer(issued.token))
        assert response.status_code == 401
        assert response.json["type"] == "https://wesog-dash/problems/token-expired"
    events = refusals(app)
    assert [e.outcome for e in events] == ["expired", "expired"]  # every use is audited
    assert events[0].details == {"token_id": issued.id, "why": "expired"}
    assert issued.token not in str(events[0].details)


def test_a_revoked_token_is_refused_at_once_and_each_use_audited(app, client) -> None:
    issued = issue(app, "otto", "operator", expires_days=7)
    assert client.get("/api/v1/me", headers=bearer(issued.token)).status_code == 200
    with app.app_context():
        tokens.revoke(issued.id, actor="cli:test")
        assert db.session.get(ApiToken, issued.id).last_used_at is not None
    response = client.post("/api/v1/deletions", json=BODY, headers=bearer(issued.token))
    assert response.status_code == 401
    assert response.json["type"].endswith("/token-revoked") and response.json["status"] == 401
    assert [e.outcome for e in refusals(app)] == ["revoked"]
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEvent.action)))
        assert "token.revoked" in actions and "deletion.requested" not in actions


def test_the_cli_issues_lists_and_revokes_tokens(app, runner, client) -> None:
    issue(app, "root", "admin")
    result = runner.invoke(
        args=["users", "token", "root", "--scope", "read", "--expires-days", "3", "--label", "ci"]
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1].split()[-1]
    assert client.get("/api/v1/me", headers=bearer(token)).json["scope"] == "read"
    listed = runner.invoke(args=["users", "tokens", "root"]).output
    [line] = [line for line in listed.splitlines() if line.rstrip().endswith("ci")]
    token_id = int(line.split()[0])
    assert "read" in line and "active" in line and token not in listed
    revoked = runner.invoke(args=["users", "revoke-token", str(token_id)])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert "revoked" in runner.invoke(args=["users", "tokens", "root"]).output
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    again = runner.invoke(args=["users", "revoke-token", str(token_id)])
    assert again.exit_code == 1 and "already revoked" in again.output
    bad = runner.invoke(args=["users", "token", "root", "--expires-days", "0"])
    assert bad.exit_code == 2


def test_admins_see_tokens_and_revoke_them_on_the_users_page(app, client, auth: AuthActions):
    csrf = auth.login("admin")
    issued = issue(app, "otto", "operator", label="nightly job")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "nightly job" in page and issued.token not in page
    assert f"/admin/users/tokens/{issued.id}/revoke" in page
    refused = client.post(f"/admin/users/tokens/{issued.id}/revoke")
    assert refused.status_code == 400  # no CSRF token
    done = client.post(f"/admin/users/tokens/{issued.id}/revoke", data={"csrf_token": csrf})
    assert done.status_code == 303
    with app.app_context():
        assert db.session.get(ApiToken, issued.id).revoked
    assert client.get("/api/v1/me", headers=bearer(issued.token)).status_code == 401
    page = client.get("/admin/users").get_data(as_text=True)
    assert f"/admin/users/tokens/{issued.id}/revoke" not in page
