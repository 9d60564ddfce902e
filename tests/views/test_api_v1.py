"""The JSON API: Bearer tokens only, JSON errors, roles, read-only, deletions end to end."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests.conftest import TEST_PASSWORD, AuthActions, wait_for
from wesog_dash import accounts
from wesog_dash.accounts import tokens
from wesog_dash.extensions import db
from wesog_dash.models import ApiToken, AuditEvent, DeletionRequest


def token_for(app: Flask, username: str, role: str) -> str:
    """A user with `role` and a fresh personal token for them."""
    with app.app_context():
        user = accounts.find_user(username) or accounts.create_user(
            username, TEST_PASSWORD, role, actor="cli:test"
        )
        return tokens.issue_token(user, actor="cli:test")


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def operator_token(app: Flask) -> str:
    """A personal token of an operator."""
    return token_for(app, "otto", "operator")


def test_me_answers_who_the_token_belongs_to(client: FlaskClient, operator_token: str) -> None:
    response = client.get("/api/v1/me", headers=bearer(operator_token))
    assert response.status_code == 200
    body = response.json
    assert body.pop("token_expires_at").endswith("Z")
    assert body == {"username": "otto", "role": "operator", "scope": "operate", "read_only": False}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wsd_not-a-real-token"},
        {"Authorization": "Basic b3R0bzpwYXNzd29yZA=="},
        {"Authorization": "Bearer"},
    ],
)
def test_a_missing_or_wrong_token_is_a_json_401(client, operator_token, headers) -> None:
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "https://wesog-dash/problems/unauthorized"
    assert response.json["status"] == 401 and response.json["title"] == "Unauthorized"
    assert "Authorization: Bearer" in response.json["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_session_cookie_does_not_authenticate_the_api(client, auth: AuthActions) -> None:
    auth.login("admin")
    assert client.get("/api/v1/me").status_code == 401


def test_a_token_does_not_open_the_pages_and_a_cookie_does_not_mix_into_the_api(
    client, auth: AuthActions, operator_token: str
) -> None:
    page = client.get("/ops", headers=bearer(operator_token))
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    auth.login("viewer", username="vera")  # a cookie of another user, sent along
    me = client.get("/api/v1/me", headers=bearer(operator_token))
    assert me.status_code == 200 and me.json["username"] != "vera"


def test_tokens_of_disabled_users_and_revoked_tokens_stop_working(app: Flask, client) -> None:
    token_for(app, "root", "admin")
    ana = token_for(app, "ana", "viewer")
    bob = token_for(app, "bob", "viewer")
    with app.app_context():
        accounts.disable_user("ana", actor="cli:test")
        digest = tokens.token_digest(bob)
        db.session.execute(
            update(ApiToken).where(ApiToken.token_sha256 == digest).values(revoked=True)
        )
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(ana)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(bob)).status_code == 401


def test_a_viewer_token_cannot_delete(app: Flask, client) -> None:
    viewer = token_for(app, "vera", "viewer")
    body = {"image_ids": ["100001"], "reason": "test"}
    response = client.post("/api/v1/deletions", json=body, headers=bearer(viewer))
    assert response.status_code == 403
    assert response.json["type"].endswith("/insufficient-scope")
    assert "operate" in response.json["detail"]


def test_unknown_operation_and_deletion_are_json_404s(client, operator_token) -> None:
    for url in ("/api/v1/ops/999", "/api/v1/deletions/999"):
        response = client.get(url, headers=bearer(operator_token))
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
        assert response.json["type"].endswith("/not-found") and "999" in response.json["detail"]


def test_a_wrong_method_is_a_json_405(client, operator_token) -> None:
    response = client.delete("/api/v1/me", headers=bearer(operator_token))
    assert response.status_code == 405 and response.mimetype == "application/problem+json"
    assert response.json["type"].endswith("/method-not-allowed")
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "Send a JSON object"),
        ([], "Send a JSON object"),
        ({"reason": "x"}, "Give exactly one of `image_ids` and `query`"),
        ({"image_ids": [], "reason": "x"}, "image_ids: List should have at least 1 item"),
        ({"image_ids": [100001], "reason": "x"}, "image_ids.0: Input should be a valid string"),
        ({"image_ids": ["100001"]}, "reason: Field required"),
        ({"image_ids": ["100001"], "reason": "  "}, "A reason is required"),
        ({"image_ids": ["100001"], "reason": "x", "wait": "maybe"}, "wait: Input should be"),
        ({"image_ids": ["100001"], "reason": "x", "ticket": 5}, "ticket: Input should be"),
        ({"image_ids": ["1"], "query": "id=1", "reason": "x"}, "query`; both were given"),
        ({"image_ids": ["1"], "reason": "x", "extra": 1}, "extra: Extra inputs"),
    ],
)
def test_bad_deletion_requests_are_json_400s_with_the_reason(
    client, operator_token, body: Any, message: str
) -> None:
    kwargs = (
        {"data": "not json", "content_type": "application/json"} if body is None else {"json": body}
    )
    response = client.post("/api/v1/deletions", headers=bearer(operator_token), **kwargs)
    assert response.status_code == 400
    assert response.json["type"] == "https://wesog-dash/problems/invalid-request"
    assert message in response.json["detail"]


def test_the_deletion_service_refusal_is_a_json_400(client, operator_token) -> None:
    body = {"image_ids": ["bad/id"], "reason": "cleanup"}
    response = client.post("/api/v1/deletions", json=body, headers=bearer(operator_token))
    assert response.status_code == 400 and response.json["type"].endswith("/invalid-request")


def test_a_deletion_through_the_api_needs_no_csrf_and_can_be_followed(
    app: Flask, client: FlaskClient, operator_token: str, sandbox
) -> None:
    body = {"image_ids": ["100001", "100002"], "reason": "takedown", "ticket": "T-1"}
    response = client.post("/api/v1/deletions", json=body, headers=bearer(operator_token))
    assert response.status_code == 202, response.json
    created = response.json
    assert response.headers["Location"] == f"/api/v1/deletions/{created['id']}"
    assert created["actor"] == "otto" and created["reason"] == "takedown"
    assert created["selection_kind"] == "list" and created["ticket"] == "T-1"
    assert [item["image_id"] for item in created["items"]] == ["100001", "100002"]
    with app.app_context():
        row = db.session.get(DeletionRequest, created["id"])
        assert row.user_id is not None and row.actor == "otto"
        assert db.session.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "deletion.requested")
        )
    followed = client.get(response.headers["Location"], headers=bearer(operator_token))
    assert followed.status_code == 200 and followed.json["id"] == created["id"]


def test_operations_read_from_the_database(app: Flask, client, operator_token, sandbox) -> None:
    body = {"image_ids": ["100003"], "reason": "takedown"}
    created = client.post("/api/v1/deletions", json=body, headers=bearer(operator_token)).json

    def op_ids() -> list[int]:
        answer = client.get(f"/api/v1/deletions/{created['id']}", headers=bearer(operator_token))
        return answer.json["op_ids"]

    [op_id] = wait_for(op_ids)
    response = client.get(f"/api/v1/ops/{op_id}", headers=bearer(operator_token))
    assert response.status_code == 200
    assert response.json["op_id"] == op_id and response.json["deletion_id"] == created["id"]
    assert response.json["num_total"] == 1 and "raw" not in response.json


@pytest.mark.parametrize("app_overrides", [{"WESOG_READ_ONLY": True}])
def test_read_only_refuses_api_deletions_with_a_clear_message(
    app: Flask, client, operator_token, sandbox
) -> None:
    body = {"image_ids": ["100001"], "reason": "takedown"}
    response = client.post("/api/v1/deletions", json=body, headers=bearer(operator_token))
    assert response.status_code == 403
    assert response.json["type"].endswith("/read-only") and "read-only" in response.json["detail"]
    assert client.get("/api/v1/me", headers=bearer(operator_token)).json["read_only"] is True
    assert sandbox.state.stats.get("DELETE /imgs/{image_id}", 0) == 0
    with app.app_context():
        assert db.session.scalar(select(DeletionRequest.id)) is None


def test_the_api_accepts_any_case_of_bearer(client, operator_token) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": f"bearer {operator_token}"})
    assert response.status_code == 200
