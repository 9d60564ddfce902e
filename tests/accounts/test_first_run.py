"""First run: the setup-needed page, the printed one-time URL, and the first admin."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests.conftest import TEST_PASSWORD, AuthActions, csrf_token_from
from wesog_dash.accounts import first_run as setup
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent, SetupToken, User, utcnow

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

SETUP_URL = re.compile(r"http://localhost/setup/([A-Za-z0-9_-]{20,})")


def announced_tokens(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Setup tokens the server announced in its log."""
    found = []
    for record in caplog.records:
        if record.name == "wesog_dash" and record.levelno == logging.WARNING:
            found += SETUP_URL.findall(record.getMessage())
    return found


def first_visit(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> str:
    """Visit the console with no user; return the token of the URL the server announced."""
    with caplog.at_level(logging.WARNING, logger="wesog_dash"):
        client.get("/", follow_redirects=True)
    [token] = announced_tokens(caplog)
    return token


def fill_setup(client: FlaskClient, token: str, username: str = "root", **fields: str):
    """Submit the setup form with its CSRF token."""
    page = client.get(f"/setup/{token}").get_data(as_text=True)
    data = {
        "username": username,
        "password": TEST_PASSWORD,
        "password_confirm": TEST_PASSWORD,
        "csrf_token": csrf_token_from(page),
        **fields,
    }
    return client.post(f"/setup/{token}", data=data)


def test_with_no_user_every_page_leads_to_the_setup_explanation(client: FlaskClient) -> None:
    response = client.get("/images")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "Finish setting up wesog-dash" in page
    assert "console where the server started" in page
    assert "flask --app app users create NAME --role admin" in page
    assert 'name="password"' not in page


def test_with_no_user_htmx_requests_are_sent_to_the_setup_page_whole(client) -> None:
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login"


def test_public_routes_and_the_api_do_not_redirect_while_no_user_exists(client) -> None:
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/healthz").status_code == 200
    response = client.get("/api/v1/me")
    assert response.status_code == 401 and response.is_json


def test_the_first_visit_logs_and_prints_a_one_time_setup_url(
    client: FlaskClient, caplog, capsys
) -> None:
    token = first_visit(client, caplog)
    assert f"/setup/{token}" in capsys.readouterr().out
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="wesog_dash"):
        client.get("/")
        client.get("/login")
    assert not [r for r in caplog.records if r.name == "wesog_dash"], "one URL while it is valid"


def test_a_url_printed_by_the_cli_is_not_printed_again_but_pointed_to(
    app: Flask, client: FlaskClient, caplog
) -> None:
    with app.app_context():
        setup.issue_setup_token()  # what `make run` does through `users setup-url`
    with caplog.at_level(logging.WARNING, logger="wesog_dash"):
        client.get("/login")
        client.get("/login")
    messages = [r.getMessage() for r in caplog.records if r.name == "wesog_dash"]
    assert announced_tokens(caplog) == []
    assert len(messages) == 1 and "users setup-url" in messages[0]


def test_only_the_hash_of_the_setup_token_is_stored(app: Flask, client, caplog) -> None:
    token = first_visit(client, caplog)
    with app.app_context():
        [row] = db.session.scalars(select(SetupToken))
        assert row.token_sha256 != token and len(row.token_sha256) == 64
        assert row.expires_at - utcnow() <= timedelta(hours=1)


def test_the_setup_url_creates_the_first_admin_and_logs_them_in(
    app: Flask, client: FlaskClient, caplog
) -> None:
    token = first_visit(client, caplog)
    form = client.get(f"/setup/{token}").get_data(as_text=True)
    assert "Create the first admin" in form
    response = fill_setup(client, token, username="root")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    overview = client.get("/").get_data(as_text=True)
    assert "root" in overview and "(admin)" in overview
    with app.app_context():
        user = db.session.scalar(select(User))
        assert (user.username, user.role) == ("root", "admin")
        actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[:2] == ["user.created", "setup.completed"]


def test_a_setup_url_works_once(app: Flask, client: FlaskClient, caplog) -> None:
    token = first_visit(client, caplog)
    fill_setup(client, token)
    other = app.test_client()
    response = other.get(f"/setup/{token}")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    csrf = csrf_token_from(other.get("/login").get_data(as_text=True))
    data = {"username": "again", "password": TEST_PASSWORD, "password_confirm": TEST_PASSWORD}
    response = other.post(f"/setup/{token}", data={**data, "csrf_token": csrf})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User.id).where(User.username == "again")) is None


def test_once_the_first_admin_exists_other_setup_tokens_are_useless(app: Flask, client) -> None:
    with app.app_context():
        first, second = setup.issue_setup_token(), setup.issue_setup_token()
    fill_setup(client, first, username="root")
    with app.app_context():
        with pytest.raises(setup.SetupError):
            setup.complete_setup(second, "intruder", TEST_PASSWORD)
        assert [u.username for u in db.session.scalars(select(User))] == ["root"]


def test_an_expired_setup_url_is_refused_with_an_explanation(app: Flask, client, caplog) -> None:
    token = first_visit(client, caplog)
    with app.app_context():
        db.session.execute(update(SetupToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = client.get(f"/setup/{token}")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "not valid" in body and "users setup-url" in body
    with caplog.at_level(logging.WARNING, logger="wesog_dash"):
        caplog.clear()
        client.get("/login")
    assert len(announced_tokens(caplog)) == 1, "a fresh URL once the old one expired"


def test_a_mistyped_setup_url_is_refused(client) -> None:
    response = client.get("/setup/not-a-real-token")
    assert response.status_code == 404
    assert "not valid" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password_confirm": "something else entirely"}, "The passwords differ."),
        ({"password": "short", "password_confirm": "short"}, "at least 10 characters"),
        ({"username": "no spaces please"}, "username is 1–64"),
    ],
)
def test_a_bad_setup_form_is_refused_and_the_url_still_works(
    app: Flask, client, caplog, fields: dict[str, str], message: str
) -> None:
    token = first_visit(client, caplog)
    response = fill_setup(client, token, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert fill_setup(client, token).status_code == 302


def test_the_setup_form_needs_a_csrf_token(client, caplog) -> None:
    token = first_visit(client, caplog)
    data = {"username": "root", "password": TEST_PASSWORD, "password_confirm": TEST_PASSWORD}
    assert client.post(f"/setup/{token}", data=data).status_code == 400


def test_when_users_exist_nothing_redirects_to_setup(client, auth: AuthActions, caplog) -> None:
    auth.create_user("ana", "viewer")
    with caplog.at_level(logging.WARNING, logger="wesog_dash"):
        page = client.get("/login").get_data(as_text=True)
    assert 'name="password"' in page
    assert announced_tokens(caplog) == []
