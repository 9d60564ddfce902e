"""Error pages inside the console's frame (navigation, one title, a way back, no server
boilerplate), and a login page that says why a session is gone."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient

from tests.conftest import AuthActions
from wesog_dash import accounts

HTMX = {"HX-Request": "true"}
BOILERPLATE = ("The requested URL was not found", "Not Found</h1>", "<title>404 Not Found")


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Small bodies only (a 413 is cheap to provoke); crashes become the 500 page."""
    return {"MAX_CONTENT_LENGTH": 4096, "PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def raising_app(app: Flask) -> Flask:
    """The app with two routes that fail on purpose (a 429 and a crash)."""

    def crash() -> str:
        raise RuntimeError("secret detail 7f3a")

    app.add_url_rule("/_test/busy", "test_busy", lambda: abort(429))
    app.add_url_rule("/_test/crash", "test_crash", crash)
    return app


def framed(html: str) -> None:
    """The page has the console's navigation and a way back, and no server boilerplate."""
    assert 'id="main-nav"' in html and 'href="/"' in html
    assert all(text not in html for text in BOILERPLATE)


@pytest.mark.parametrize(
    ("path", "method", "code", "title"),
    [
        ("/no/such/page", "get", 404, "Nothing here"),
        ("/deletions/999999", "get", 404, "Nothing here"),
        ("/logout", "get", 405, "This address does not answer that way"),
        ("/ops?state=%00", "get", 400, "This request could not be understood"),
        ("/admin/users", "get", 403, "You may not open this"),
        ("/_test/busy", "get", 429, "Too many requests"),
        ("/_test/crash", "get", 500, "Something went wrong on our side"),
        ("/deletions/new", "post", 413, "Too much to send at once"),
    ],
)
def test_each_error_page_is_inside_the_frame_with_one_title(
    raising_app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    path: str,
    method: str,
    code: int,
    title: str,
) -> None:
    auth.login("operator")
    referrer = {"Referer": "http://localhost/audit?view=all"}
    if method == "post":
        response = client.post(path, data={"ids_text": "x" * 8000}, headers=referrer)
    else:
        response = client.get(path, headers=referrer)
    assert response.status_code == code
    html = response.get_data(as_text=True)
    framed(html)
    assert html.count(title) == 2  # the tab's title and the page's heading, nothing else
    assert f"Error {code}" in html
    assert 'href="/audit?view=all">Back to the page you came from' in html
    assert "secret detail" not in html  # a crash's details stay in the log


def test_a_view_s_own_words_are_kept_and_a_405_says_what_is_allowed(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("viewer")
    missing = client.get("/deletions/999999").get_data(as_text=True)
    assert "There is no deletion request #999999." in missing
    assert client.get("/logout").headers["Allow"].count("POST") == 1
    fragment = client.get("/ops/424242/row", headers=HTMX).get_data(as_text=True)
    assert "<html" not in fragment and "Track it first" in fragment


def test_the_login_page_says_a_session_was_ended_elsewhere(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("operator", username="erin")
    with app.app_context():
        user = accounts.find_user("erin")
        accounts.sessions.log_out_everywhere(user, actor="erin")  # from another device
    page = client.get("/ops")
    assert page.status_code == 302 and "why=ended" in page.headers["Location"]
    login = client.get(page.headers["Location"]).get_data(as_text=True)
    assert "Your session was ended elsewhere" in login
    poll = client.get("/ops/running", headers=HTMX)
    assert poll.status_code == 401 and "why=ended" in poll.headers["HX-Redirect"]


def test_a_poll_without_a_session_sends_the_tab_to_log_in_saying_it_expired(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.create_user("fred", "viewer")
    poll = client.get("/ops/running", headers={**HTMX, "HX-Current-URL": "http://localhost/ops"})
    assert poll.status_code == 401 and "why=expired" in poll.headers["HX-Redirect"]
    login = client.get(poll.headers["HX-Redirect"]).get_data(as_text=True)
    assert "Your session expired" in login
    first_visit = client.get("/login").get_data(as_text=True)
    assert "Your session" not in first_visit
