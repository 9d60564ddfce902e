"""Sessions end on the server: a cookie copied before logout, disable, a role or password
change no longer opens anything."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import TEST_PASSWORD, AuthActions
from wesog_dash import accounts
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


def session_cookie(client: FlaskClient) -> str:
    """The current session cookie's value (what an attacker could have copied)."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def opens_audit(app: Flask, cookie: str) -> bool:
    """Does a fresh browser holding only this cookie get the audit page?"""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get("/audit").status_code == 200


def test_a_cookie_saved_before_logout_is_dead_after_it(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    token = auth.login("viewer")
    saved = session_cookie(client)
    assert opens_audit(app, saved)
    client.post("/logout", data={"csrf_token": token})
    assert not opens_audit(app, saved)


@pytest.mark.parametrize(
    "change",
    [
        lambda: accounts.disable_user("viewer-user", actor="cli:test"),
        lambda: accounts.set_role("viewer-user", "operator", actor="cli:test"),
        lambda: accounts.set_password("viewer-user", "another long password", actor="cli:test"),
    ],
    ids=["disable", "role", "password"],
)
def test_account_changes_end_every_session(
    app: Flask, client: FlaskClient, auth: AuthActions, change: Any
) -> None:
    auth.create_user("admin-keeper", "admin")  # so the viewer may lose its role
    auth.login("viewer")
    saved = session_cookie(client)
    with app.app_context():
        change()
    assert not opens_audit(app, saved)


def test_log_out_everywhere_ends_other_devices_and_is_audited(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    token = auth.login("viewer")
    laptop = session_cookie(client)
    phone = app.test_client()
    page = phone.get("/login").get_data(as_text=True)
    from tests.conftest import csrf_token_from

    data = {"username": "viewer-user", "password": TEST_PASSWORD}
    phone.post("/login", data={**data, "csrf_token": csrf_token_from(page)})
    phone_cookie = session_cookie(phone)
    assert opens_audit(app, phone_cookie)
    response = client.post("/logout/everywhere", data={"csrf_token": token})
    assert response.status_code == 302
    assert not opens_audit(app, laptop) and not opens_audit(app, phone_cookie)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).filter_by(action="user.sessions_ended")).one()
        assert event.details == {"username": "viewer-user", "count": 2}


def test_an_admin_ends_another_users_sessions(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    viewer = app.test_client()
    AuthActions(app, viewer).login("viewer")
    saved = session_cookie(viewer)
    token = auth.login("admin")
    with app.app_context():
        user_id = accounts.find_user("viewer-user").id  # type: ignore[union-attr]
    response = client.post(f"/admin/users/{user_id}/sessions/end", data={"csrf_token": token})
    assert response.status_code == 303
    assert not opens_audit(app, saved)
    assert client.get("/audit").status_code == 200  # the admin's own session is untouched


def test_log_out_everywhere_offers_to_revoke_the_api_tokens_too(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    from wesog_dash.accounts import tokens

    csrf = auth.login("operator")
    with app.app_context():
        secret = tokens.issue_token(accounts.find_user("operator-user"), actor="cli:test")
    bearer = {"Authorization": f"Bearer {secret}"}
    offer = client.post("/logout/everywhere", data={"csrf_token": csrf})
    assert offer.status_code == 200  # asked first: nothing ended yet
    html = offer.get_data(as_text=True)
    assert "1 API token that still works" in html and 'value="revoke"' in html
    assert client.get("/audit").status_code == 200
    done = client.post("/logout/everywhere", data={"csrf_token": csrf, "tokens": "revoke"})
    assert done.status_code == 302
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    assert "1 API token revoked" in client.get("/login").get_data(as_text=True)


def test_log_out_everywhere_can_keep_the_api_tokens_and_says_so(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    from wesog_dash.accounts import tokens

    csrf = auth.login("operator")
    with app.app_context():
        secret = tokens.issue_token(accounts.find_user("operator-user"), actor="cli:test")
    done = client.post("/logout/everywhere", data={"csrf_token": csrf, "tokens": "keep"})
    assert done.status_code == 302
    assert "Your 1 API token still works" in client.get("/login").get_data(as_text=True)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200


def test_the_login_page_is_never_cached(client: FlaskClient, auth: AuthActions) -> None:
    auth.create_user("ana", "viewer")
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    wrong = client.post("/login", data={"username": "ana", "password": "nope"})
    assert wrong.headers["Cache-Control"] == "no-store"
