"""Accounts: hashing, roles, disabling, and logging in and out through the real form."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import TEST_PASSWORD, AuthActions, csrf_token_from
from wesog_dash import accounts
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent, User

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


def events(app: Flask, action: str) -> list[AuditEvent]:
    """Audit events of one action, oldest first."""
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list(db.session.scalars(query))


def post_login(client: FlaskClient, username: str, password: str, query: str = ""):
    """Submit the real login form (with its CSRF token)."""
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    data = {"username": username, "password": password, "csrf_token": token}
    return client.post(f"/login{query}", data=data)


def test_passwords_are_stored_as_argon2id_hashes(app: Flask) -> None:
    with app.app_context():
        user = accounts.create_user("ana", TEST_PASSWORD, "viewer", actor="cli:test")
        assert user.password_hash.startswith("$argon2id$")
        assert TEST_PASSWORD not in user.password_hash


def test_authenticate_accepts_the_right_password_only(app: Flask) -> None:
    with app.app_context():
        accounts.create_user("ana", TEST_PASSWORD, "viewer", actor="cli:test")
        assert accounts.authenticate("ana", TEST_PASSWORD).username == "ana"
        assert accounts.authenticate("ana", "wrong password!") is None
        assert accounts.authenticate("nobody", TEST_PASSWORD) is None


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("", TEST_PASSWORD, "viewer", "username is 1–64"),
        ("bad name", TEST_PASSWORD, "viewer", "username is 1–64"),
        ("x" * 65, TEST_PASSWORD, "viewer", "username is 1–64"),
        ("ana", "short", "viewer", "at least 10 characters"),
        ("ana", TEST_PASSWORD, "root", "Unknown role"),
    ],
)
def test_create_user_refuses_bad_input_with_a_clear_message(
    app: Flask, username: str, password: str, role: str, message: str
) -> None:
    with app.app_context(), pytest.raises(accounts.AccountError, match=message):
        accounts.create_user(username, password, role, actor="cli:test")


def test_usernames_are_unique(app: Flask) -> None:
    with app.app_context():
        accounts.create_user("ana", TEST_PASSWORD, "viewer", actor="cli:test")
        with pytest.raises(accounts.AccountError, match="already exists"):
            accounts.create_user("ana", TEST_PASSWORD, "admin", actor="cli:test")


def test_roles_are_ordered_viewer_operator_admin(app: Flask) -> None:
    with app.app_context():
        operator = accounts.create_user("olga", TEST_PASSWORD, "operator", actor="cli:test")
        assert operator.has_role("viewer") and operator.has_role("operator")
        assert not operator.has_role("admin")


def test_role_changes_are_audited_end_the_session_and_apply_at_the_next_login(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("viewer", username="vera")
    assert "(viewer)" in client.get("/").get_data(as_text=True)
    with app.app_context():
        accounts.set_role("vera", "operator", actor="cli:root")
    assert client.get("/").status_code == 302  # the old session (with the old role) is over
    auth.login("operator", username="vera")
    assert "(operator)" in client.get("/").get_data(as_text=True)
    [event] = events(app, "user.role_changed")
    assert event.actor == "cli:root"
    assert event.details == {"username": "vera", "from": "viewer", "to": "operator"}


def test_disabling_a_user_ends_their_session_and_their_logins(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.create_user("admin1", "admin")
    auth.login("operator", username="otto")
    with app.app_context():
        accounts.disable_user("otto", actor="cli:root")
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert post_login(client, "otto", TEST_PASSWORD).status_code == 401
    [event] = events(app, "user.disabled")
    assert event.details == {"username": "otto"}


def test_the_last_active_admin_cannot_be_disabled_or_demoted(app: Flask) -> None:
    with app.app_context():
        accounts.create_user("root", TEST_PASSWORD, "admin", actor="cli:test")
        with pytest.raises(accounts.AccountError, match="last active admin"):
            accounts.disable_user("root", actor="cli:test")
        with pytest.raises(accounts.AccountError, match="last active admin"):
            accounts.set_role("root", "viewer", actor="cli:test")
        accounts.create_user("root2", TEST_PASSWORD, "admin", actor="cli:test")
        accounts.set_role("root", "viewer", actor="cli:test")
        assert db.session.scalar(select(User.role).where(User.username == "root")) == "viewer"


def test_login_redirects_to_the_overview_and_is_audited(app: Flask, client, auth) -> None:
    auth.create_user("ana", "viewer")
    response = post_login(client, "ana", TEST_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "ana" in client.get("/").get_data(as_text=True)
    [event] = events(app, "login.succeeded")
    assert event.actor == "ana"
    with app.app_context():
        assert accounts.find_user("ana").last_login_at is not None


def test_a_wrong_password_is_refused_with_a_message_and_audited(app: Flask, client, auth) -> None:
    auth.create_user("ana", "viewer")
    response = post_login(client, "ana", "not the password")
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)
    [event] = events(app, "login.failed")
    assert event.details == {"username": "ana"}
    assert "not the password" not in str(event.details)


def test_a_failed_login_with_an_unknown_username_does_not_record_what_was_typed(
    app: Flask, client, auth
) -> None:
    auth.create_user("ana", "viewer")
    response = post_login(client, "my secret passphrase", "whatever")
    assert response.status_code == 401
    [event] = events(app, "login.failed")
    assert event.details == {"username": None, "unknown_user": True}


@pytest.mark.parametrize(
    ("next_url", "landing"),
    [
        ("/images?q=t~beach", "/images?q=t~beach"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_only_leads_to_local_paths(client, auth, next_url: str, landing: str) -> None:
    from urllib.parse import quote

    auth.create_user("ana", "viewer")
    response = post_login(client, "ana", TEST_PASSWORD, query=f"?next={quote(next_url)}")
    assert response.headers["Location"] == landing


def test_pages_send_anonymous_visitors_to_login_with_next(client, auth) -> None:
    auth.create_user("ana", "viewer")
    response = client.get("/images?q=x")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert response.headers["Location"] == "/login?next=/images?q%3Dx"


def test_htmx_requests_of_anonymous_visitors_get_401_with_hx_redirect(client, auth) -> None:
    auth.create_user("ana", "viewer")
    response = client.get(
        "/", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/"}
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")
    assert response.get_data() == b""


def test_logout_is_a_post_with_csrf_and_ends_the_session(client, auth) -> None:
    token = auth.login("viewer")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token
    assert client.get("/").status_code == 200
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_login_page_of_a_logged_in_user_goes_to_next(client, auth) -> None:
    auth.login("viewer")
    response = client.get("/login?next=/images")
    assert response.status_code == 302 and response.headers["Location"] == "/images"


def test_logging_in_gives_a_fresh_csrf_token(client, auth) -> None:
    auth.create_user("ana", "viewer")
    before = csrf_token_from(client.get("/login").get_data(as_text=True))
    token = before
    client.post("/login", data={"username": "ana", "password": TEST_PASSWORD, "csrf_token": token})
    after = auth.csrf_token()
    response = client.post("/logout", data={"csrf_token": before})
    assert response.status_code == 400, "a token from before login must not work after it"
    assert client.post("/logout", data={"csrf_token": after}).status_code == 302
