"""A NUL character anywhere in a request is refused alike on both engines, never a 500."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import AuthActions
from wesog_dash import accounts
from wesog_dash.accounts import tokens


def test_a_nul_in_the_query_path_or_form_is_refused(client: FlaskClient, auth: AuthActions):
    csrf = auth.login("admin")
    answers = [
        client.get("/audit?q=a%00b"),
        client.get("/audit?actor=%00"),
        client.get("/images/a%00b/history"),
        client.post("/login", data={"username": "x\x00", "password": "p", "csrf_token": csrf}),
    ]
    assert [a.status_code for a in answers] == [400] * 4
    assert "NUL character" in answers[0].get_data(as_text=True)
    assert client.get("/audit?q=ab").status_code == 200


def test_a_nul_inside_api_json_is_refused_as_json(app, client: FlaskClient, auth: AuthActions):
    auth.create_user("robot", "operator")
    with app.app_context():
        token = tokens.issue_token(accounts.find_user("robot"), actor="cli:test")
    body = {"image_ids": ["100001"], "reason": "spam\u0000"}
    answer = client.post(
        "/api/v1/deletions", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 400 and answer.mimetype == "application/problem+json"
    assert answer.get_json()["type"] == "https://wesog-dash/problems/invalid-request"


def test_a_nul_sent_to_an_api_url_of_no_route_is_still_a_problem(client: FlaskClient):
    # An id out of range matches no route: the guard's 400 must still answer as the API does.
    answer = client.post("/api/v1/policies/-5/approve", json={"reason": "a\u0000"})
    assert answer.status_code == 400 and answer.mimetype == "application/problem+json"
    page = client.post("/policies/-5/approve", data={"reason": "a\u0000"})
    assert page.status_code == 400 and page.mimetype == "text/html"
