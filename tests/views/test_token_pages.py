"""API tokens in the browser: operators and admins make (label, scope, expiry) and revoke
their own, admins anyone's; the secret is shown once, never again; all of it audited."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.conftest import AuthActions
from tests.views.test_api_v1 import bearer
from wesog_dash.extensions import db
from wesog_dash.models import ApiToken, AuditEvent


def make(client: FlaskClient, token: str, **fields: str) -> TestResponse:
    """Post the New token form."""
    data = {"csrf_token": token, "label": "nightly job", "scope": "read", "expires_days": "30"}
    return client.post("/tokens", data={**data, **fields})


def secret_of(html: str) -> str:
    """The token the page shows once."""
    found = re.search(r'id="issued-token"[^>]*value="(wsd_[^"]+)"', html, re.S)
    assert found, "no token shown"
    return found.group(1)


def test_an_operator_makes_a_token_sees_it_once_and_it_works(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    csrf = auth.login("operator", username="otto")
    response = make(client, csrf)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    secret = secret_of(html)
    assert 'data-copy="issued-token"' in html
    me = client.get("/api/v1/me", headers=bearer(secret)).json
    assert me["username"] == "otto" and me["scope"] == "read"
    again = client.get("/tokens").get_data(as_text=True)
    assert secret not in again and "nightly job" in again  # listed, never shown again
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.label == "nightly job"))
        assert (
            row is not None
            and round((row.expires_at - row.created_at).total_seconds() / 86400) == 30
        )
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "token.issued"))
        issued = [e for e in events if e.actor == "otto"]
        assert len(issued) == 1 and secret not in repr(issued[0].details)


def test_an_operator_revokes_their_own_token_but_not_another_s(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    csrf = auth.login("operator", username="otto")
    secret = secret_of(make(client, csrf).get_data(as_text=True))
    with app.app_context():
        own = db.session.scalar(select(ApiToken.id).where(ApiToken.label == "nightly job"))
    auth.logout()
    csrf = auth.login("operator", username="olive")
    assert "nightly job" not in client.get("/tokens").get_data(as_text=True)
    refused = client.post(f"/tokens/{own}/revoke", data={"csrf_token": csrf})
    assert refused.status_code == 403
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    auth.logout()
    csrf = auth.login("operator", username="otto")
    done = client.post(f"/tokens/{own}/revoke", data={"csrf_token": csrf})
    assert done.status_code == 303
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_an_admin_makes_and_revokes_a_token_for_anyone(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.create_user("vera", "viewer")
    csrf = auth.login("admin")
    response = make(client, csrf, owner="vera", label="vera's report")
    secret = secret_of(response.get_data(as_text=True))
    assert client.get("/api/v1/me", headers=bearer(secret)).json["username"] == "vera"
    operate = make(client, csrf, owner="vera", scope="operate")
    assert operate.status_code == 422 and "can only read" in operate.get_data(as_text=True)
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.label == "vera's report"))
        token_id = row.id
    client.post(f"/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_viewers_have_no_token_page_and_bad_input_is_explained(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("viewer")
    assert client.get("/tokens").status_code == 403
    auth.logout()
    csrf = auth.login("operator")
    too_long = make(client, csrf, label="x" * 500)
    assert too_long.status_code == 422 and "wsd_" not in too_long.get_data(as_text=True)
    junk = make(client, csrf, expires_days="forever", scope="root", owner="someone-else")
    assert junk.status_code == 422


def token_row(html: str, token_id: int) -> str:
    """One token's row of a page's token table."""
    found = re.search(rf'<tr id="token-{token_id}".*?</tr>', html, re.S)
    assert found, f"no row for token {token_id}"
    return found.group(0)


def test_the_users_page_and_the_tokens_page_draw_a_token_alike_in_words(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    csrf = auth.login("admin")
    make(client, csrf, label="weekly export")
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.label == "weekly export"))
    client.post(f"/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    on_tokens = token_row(client.get("/tokens").get_data(as_text=True), token_id)
    on_users = token_row(client.get("/admin/users").get_data(as_text=True), token_id)
    assert on_users == on_tokens  # one table, the same row
    assert "Read only" in on_users and 'data-label="May"' in on_users  # words, phone labels
    assert ">read<" not in on_users and "Revoke token" not in on_users  # no code, no button
