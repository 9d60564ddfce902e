"""The admin users page: list, create, change a role, disable; each change audited once."""

from __future__ import annotations

import html
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import TEST_PASSWORD, AuthActions
from wesog_dash import accounts
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent, User

ADMIN = "admin-user"  # the name auth.login("admin") gives the admin


def post_role(client: FlaskClient, token: str, user_id: int, role: str) -> Any:
    """Change a user's role through the page's form."""
    return client.post(f"/admin/users/{user_id}/role", data={"role": role, "csrf_token": token})


def text_of(response: Any) -> str:
    """The response body with HTML entities decoded (messages quote names with ')."""
    return html.unescape(response.get_data(as_text=True))


def audit_of(app: Flask, action: str, username: str) -> list[AuditEvent]:
    """The audit events of one action about one user."""
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action))
        return [event for event in events if event.details.get("username") == username]


def user_row(app: Flask, username: str) -> tuple[int, str, bool] | None:
    """(id, role, disabled) of a user, or None."""
    with app.app_context():
        user = accounts.find_user(username)
        return (user.id, user.role, user.disabled) if user else None


def new_user_form(token: str, **fields: str) -> dict[str, str]:
    """A valid create form, with some fields replaced."""
    form = {
        "csrf_token": token,
        "username": "carla",
        "role": "operator",
        "password": TEST_PASSWORD,
        "password_confirm": TEST_PASSWORD,
    }
    return {**form, **fields}


def test_admin_sees_every_user_without_secrets(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.create_user("dora", "viewer")
    auth.login("admin")
    response = client.get("/admin/users")
    assert response.status_code == 200
    body = text_of(response)
    assert "dora" in body and ADMIN in body
    assert "$argon2" not in body
    assert 'class="local-time"' in body, "created times go through local_time"
    assert "never" in body, "dora never logged in"
    assert 'data-open-dialog="disable-dialog-' in body
    assert "users token NAME" in body and 'href="/tokens"' in body, "both ways to make a token"
    assert '<a href="/admin/users" aria-current="page">Users</a>' in body


def test_nav_link_only_for_admins(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("operator")
    assert 'href="/admin/users"' not in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login("admin")
    assert 'href="/admin/users"' in client.get("/").get_data(as_text=True)


def test_admin_creates_a_user_audited_once(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    token = auth.login("admin")
    response = client.post("/admin/users", data=new_user_form(token))
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/users"
    assert "Created carla (operator)." in text_of(client.get("/admin/users"))
    assert user_row(app, "carla") is not None
    assert user_row(app, "carla")[1:] == ("operator", False)
    [event] = audit_of(app, "user.created", "carla")
    assert event.actor == ADMIN
    assert event.details == {"username": "carla", "role": "operator"}
    with app.app_context():
        assert accounts.authenticate("carla", TEST_PASSWORD) is not None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password": "short", "password_confirm": "short"}, "at least 10 characters"),
        ({"password_confirm": "something else entirely"}, "The two passwords differ."),
        ({"role": "superuser"}, "Unknown role 'superuser'"),
        ({"username": "bad name!"}, "A username is 1–64 letters"),
    ],
)
def test_bad_input_changes_nothing_and_keeps_what_was_typed(
    app: Flask, client: FlaskClient, auth: AuthActions, fields: dict[str, str], message: str
) -> None:
    token = auth.login("admin")
    response = client.post("/admin/users", data=new_user_form(token, **fields))
    assert response.status_code == 422
    body = text_of(response)
    assert message in body
    assert f'value="{fields.get("username", "carla")}"' in body, "the username is kept"
    assert TEST_PASSWORD not in body and 'value="short"' not in body, "passwords are not"
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "carla")) is None
    assert audit_of(app, "user.created", "carla") == []


def test_the_role_typed_is_kept_after_an_error(client: FlaskClient, auth: AuthActions) -> None:
    token = auth.login("admin")
    form = new_user_form(token, role="admin", password_confirm="different password")
    body = client.post("/admin/users", data=form).get_data(as_text=True)
    assert '<option selected value="admin">admin</option>' in body


def test_a_duplicate_username_is_refused(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.create_user("carla", "viewer")
    token = auth.login("admin")
    response = client.post("/admin/users", data=new_user_form(token))
    assert response.status_code == 422
    assert "A user named 'carla' already exists." in text_of(response)
    assert user_row(app, "carla")[1] == "viewer"
    assert len(audit_of(app, "user.created", "carla")) == 1, "only the fixture's creation"


def test_admin_changes_a_role_audited(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.create_user("dora", "viewer")
    token = auth.login("admin")
    user_id = user_row(app, "dora")[0]
    response = post_role(client, token, user_id, "operator")
    assert response.status_code == 303
    assert "dora is now operator." in text_of(client.get("/admin/users"))
    assert user_row(app, "dora")[1] == "operator"
    [event] = audit_of(app, "user.role_changed", "dora")
    assert event.actor == ADMIN
    assert event.details == {"username": "dora", "from": "viewer", "to": "operator"}


def test_the_same_role_again_changes_nothing(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.create_user("dora", "viewer")
    token = auth.login("admin")
    user_id = user_row(app, "dora")[0]
    post_role(client, token, user_id, "viewer")
    assert "already viewer" in text_of(client.get("/admin/users"))
    assert audit_of(app, "user.role_changed", "dora") == []


def test_an_unknown_role_is_refused_with_its_message(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.create_user("dora", "viewer")
    token = auth.login("admin")
    user_id = user_row(app, "dora")[0]
    response = post_role(client, token, user_id, "root")
    assert response.status_code == 303
    assert "Unknown role 'root'" in text_of(client.get("/admin/users"))
    assert user_row(app, "dora")[1] == "viewer"


def test_admin_disables_a_user_who_is_then_locked_out(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.create_user("dora", "operator")
    other = AuthActions(app, app.test_client())
    other.login("operator", username="dora")
    token = auth.login("admin")
    user_id = user_row(app, "dora")[0]
    response = client.post(f"/admin/users/{user_id}/disable", data={"csrf_token": token})
    assert response.status_code == 303
    page = text_of(client.get("/admin/users"))
    assert "dora is disabled" in page
    assert f'data-open-dialog="disable-dialog-{user_id}"' not in page
    assert user_row(app, "dora")[2] is True
    [event] = audit_of(app, "user.disabled", "dora")
    assert event.actor == ADMIN
    assert other.client.get("/").status_code == 302, "dora's session stopped working"


def test_the_last_active_admin_can_be_neither_disabled_nor_demoted(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    token = auth.login("admin")
    admin_id = user_row(app, ADMIN)[0]
    for url, data in (
        (f"/admin/users/{admin_id}/disable", {}),
        (f"/admin/users/{admin_id}/role", {"role": "operator"}),
    ):
        response = client.post(url, data={**data, "csrf_token": token})
        assert response.status_code == 303
        assert "is the last active admin" in text_of(client.get("/admin/users"))
    assert user_row(app, ADMIN)[1:] == ("admin", False)
    assert audit_of(app, "user.disabled", ADMIN) == []
    assert audit_of(app, "user.role_changed", ADMIN) == []


def test_an_unknown_user_id_is_404(client: FlaskClient, auth: AuthActions) -> None:
    token = auth.login("admin")
    response = client.post("/admin/users/9999/disable", data={"csrf_token": token})
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_viewers_and_operators_are_refused(
    app: Flask, client: FlaskClient, auth: AuthActions, role: str
) -> None:
    token = auth.login(role)
    user_id = user_row(app, f"{role}-user")[0]
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users", data=new_user_form(token)).status_code == 403
    promote = {"role": "admin", "csrf_token": token}
    assert client.post(f"/admin/users/{user_id}/role", data=promote).status_code == 403
    assert (
        client.post(f"/admin/users/{user_id}/disable", data={"csrf_token": token}).status_code
        == 403
    )
    assert user_row(app, "carla") is None
    assert user_row(app, f"{role}-user")[1:] == (role, False)


def test_anonymous_is_sent_to_login(client: FlaskClient, auth: AuthActions) -> None:
    auth.create_user("dora", "viewer")  # so that /login is the login form, not setup
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_posts_without_a_csrf_token_are_refused(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.create_user("dora", "viewer")
    auth.login("admin")
    user_id = user_row(app, "dora")[0]
    form = new_user_form("")
    del form["csrf_token"]
    assert client.post("/admin/users", data=form).status_code == 400
    assert client.post(f"/admin/users/{user_id}/role", data={"role": "admin"}).status_code == 400
    assert client.post(f"/admin/users/{user_id}/disable").status_code == 400
    assert user_row(app, "carla") is None
    assert user_row(app, "dora")[1:] == ("viewer", False)


@pytest.mark.parametrize("app_overrides", [{"WESOG_READ_ONLY": True}])
def test_users_are_managed_even_while_read_only(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    token = auth.login("admin")
    assert client.post("/admin/users", data=new_user_form(token)).status_code == 303
    user_id = user_row(app, "carla")[0]
    assert (
        client.post(f"/admin/users/{user_id}/disable", data={"csrf_token": token}).status_code
        == 303
    )
    assert user_row(app, "carla")[2] is True
