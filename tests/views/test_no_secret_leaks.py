"""A full run with distinctive secrets: none may reach a body, a header or a log record.

Secrets: the Wesog API key (right and wrong), the session SECRET_KEY, and every password hash.
The run covers setup, login, browsing, deletes (success, strict failure, refusal), the poller,
upstream failures (wrong key, bad formula, 5xx), error pages, exports, the API and the CLI.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from tests.conftest import TEST_PASSWORD, AuthActions, csrf_token_from, wait_for
from wesog_dash import accounts, create_app
from wesog_dash.accounts import tokens
from wesog_dash.extensions import db
from wesog_dash.models import DeletionRequest, User
from wesog_dash.sandbox import SandboxSettings

CANARY = f"LEAKCANARY-{uuid.uuid4().hex}"
WRONG_CANARY = f"LEAKCANARY-WRONG-{uuid.uuid4().hex}"
SECRET_CANARY = f"SECRETCANARY-{uuid.uuid4().hex}"
FINAL = ("done", "done_with_errors", "rejected")


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    """The sandbox expects the canary as its API key."""
    return SandboxSettings(api_key=CANARY, images=60, item_ms=5, start_ms=5)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """A distinctive session secret, and SQL echo on: parameters must stay hidden."""
    return {"SECRET_KEY": SECRET_CANARY, "SQLALCHEMY_ECHO": True}


class Recorder:
    """Every response the run produced, bodies and headers, for the final check."""

    def __init__(self) -> None:
        self.responses: list[tuple[str, Any]] = []

    def keep(self, label: str, response: Any) -> Any:
        """Read the whole body now (streams included) and keep the response."""
        response.get_data()
        response.close()
        self.responses.append((label, response))
        return response

    def get(self, client: FlaskClient, url: str, **kwargs: Any) -> Any:
        """GET and keep."""
        return self.keep(f"GET {url}", client.get(url, **kwargs))

    def post(self, client: FlaskClient, url: str, **kwargs: Any) -> Any:
        """POST and keep."""
        return self.keep(f"POST {url}", client.post(url, **kwargs))

    def statuses(self) -> list[str]:
        """What each request answered (for the failure message)."""
        return [f"{label}: {response.status_code}" for label, response in self.responses]


@pytest.fixture
def recorder() -> Recorder:
    """A fresh recorder."""
    return Recorder()


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every logger at DEBUG, urllib3, werkzeug and SQLAlchemy included."""
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "werkzeug", "wesog_dash", "sqlalchemy", "requests"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog


def setup_first_admin(app: Flask, client: FlaskClient, rec: Recorder, caplog) -> None:
    """First run through the announced setup URL."""
    rec.get(client, "/", follow_redirects=True)
    found = re.search(r"/setup/([A-Za-z0-9_-]{20,})", caplog.text)
    assert found, "the server announced no setup URL"
    page = rec.get(client, found.group(0)).get_data(as_text=True)
    data = {"username": "root", "password": TEST_PASSWORD, "password_confirm": TEST_PASSWORD}
    rec.post(client, found.group(0), data={**data, "csrf_token": csrf_token_from(page)})
    rec.get(client, "/")


def delete(client: FlaskClient, rec: Recorder, csrf: str, ids: list[str], **flags: str) -> Any:
    """POST /deletions as the browser form does."""
    form = {"image_ids": ids, "reason": "leak test", "csrf_token": csrf, **flags}
    return rec.post(client, "/deletions", data=form)


def run_poller_until_final(app: Flask) -> None:
    """Let the poller dispatch and poll until every deletion is final."""
    try:
        from wesog_dash.poller import Poller
    except ImportError:  # not built yet: the inline single deletes still ran
        return
    poller = Poller(app)

    def settled() -> bool:
        poller.run_once()
        with app.app_context():
            states = db.session.scalars(select(DeletionRequest.state))
            return all(state in FINAL for state in states)

    try:
        wait_for(settled, timeout=20)
    finally:
        poller.close()


def browse(client: FlaskClient, rec: Recorder) -> None:
    """Every page and fragment a viewer can read, errors included."""
    for url in (
        "/",
        "/images",
        "/images?q=t~beach",
        "/images?q=((((",
        "/images?q=zz%3D%3D%3D1",
        "/images/100001",
        "/images/100002",
        "/images/999999999",
        "/images/100001/history",
        "/ops",
        "/ops/running",
        "/deletions/1",
        "/deletions/1/live",
        "/deletions/1/card",
        "/deletions/2",
        "/deletions/3",
        "/audit",
        "/audit/verdict",
        "/audit/export.csv",
        "/audit/export.jsonl",
        "/no/such/page",
        "/static/app.js",
    ):
        rec.get(client, url)
        rec.get(client, url, headers={"HX-Request": "true"})
    with client.application.app_context():
        from wesog_dash.models import Operation

        op_ids = list(db.session.scalars(select(Operation.op_id)))
    for op_id in op_ids:
        for suffix in ("", "/progress", "/row", "/errors"):
            rec.get(client, f"/ops/{op_id}{suffix}", headers={"HX-Request": "true"})
            rec.get(client, f"/ops/{op_id}{suffix}")


def use_the_api(app: Flask, client: FlaskClient, rec: Recorder) -> None:
    """The JSON API with a personal token, and its errors."""
    with app.app_context():
        token = tokens.issue_token(accounts.find_user("root"), actor="cli:test")
    headers = {"Authorization": f"Bearer {token}"}
    for url in ("/api/v1/me", "/api/v1/ops/1", "/api/v1/deletions/1", "/api/v1/deletions/99"):
        rec.get(client, url, headers=headers)
    rec.get(client, "/api/v1/me", headers={"Authorization": "Bearer wrong"})
    body = {"image_ids": ["100010"], "reason": "api leak test"}
    rec.post(client, "/api/v1/deletions", json=body, headers=headers)
    rec.post(
        client, "/api/v1/deletions", json={"image_ids": ["a/b"], "reason": "x"}, headers=headers
    )


def use_the_cli(app: Flask) -> list[str]:
    """CLI output of the user commands."""
    runner = app.test_cli_runner()
    outputs = [
        runner.invoke(args=["users", "create", "cli-ana", "--password-stdin"], input=TEST_PASSWORD),
        runner.invoke(args=["users", "list"]),
        runner.invoke(args=["users", "set-role", "cli-ana", "operator"]),
        runner.invoke(args=["users", "setup-url"]),
        runner.invoke(args=["audit", "verify"]),
    ]
    return [result.output for result in outputs]


def wrong_key_app(sandbox, database_url: str) -> Flask:
    """A second console whose API key is wrong: every upstream call is refused."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET_CANARY,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WESOG_API_URL": sandbox.url,
            "WESOG_API_KEY": WRONG_CANARY,
            "WESOG_POLLER": "off",
            "WESOG_LOGIN_THROTTLE": False,
        }
    )


def visit_with_the_wrong_key(app: Flask, rec: Recorder) -> None:
    """Pages, a delete and the API of the console with the wrong key."""
    client = app.test_client()
    csrf = AuthActions(app, client).login("operator")
    for url in ("/", "/images", "/images/100001", "/images?q=t~beach"):
        rec.get(client, url)
        rec.get(client, url, headers={"HX-Request": "true"})
    delete(client, rec, csrf, ["100020"])
    run_poller_until_final(app)
    rec.get(client, "/deletions/1")
    rec.get(client, "/audit/export.jsonl")


def secrets_of(*apps: Flask) -> dict[str, str]:
    """Every secret that must stay inside: keys, session secret, password hashes."""
    found = {"API key": CANARY, "wrong API key": WRONG_CANARY, "SECRET_KEY": SECRET_CANARY}
    for app in apps:
        with app.app_context():
            for name, hashed in db.session.execute(select(User.username, User.password_hash)):
                found[f"password hash of {name}"] = hashed
                found[f"hash body of {name}"] = hashed.rsplit("$", 1)[-1]
    return found


def assert_nowhere(secrets: dict[str, str], rec: Recorder, logs: str, cli: list[str]) -> None:
    """No secret in any body, header, log record or CLI output."""
    problems = []
    for label, response in rec.responses:
        body = response.get_data(as_text=True)
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        for what, secret in secrets.items():
            if secret in body:
                problems.append(f"{what} in the body of {label}")
            if secret in headers:
                problems.append(f"{what} in a header of {label}")
    for what, secret in secrets.items():
        if secret in logs:
            problems.append(f"{what} in the log")
        if any(secret in output for output in cli):
            problems.append(f"{what} in CLI output")
    assert not problems, "\n".join(problems)


def delete_in_every_way(app: Flask, client: FlaskClient, rec: Recorder, sandbox) -> str:
    """Deletes that succeed, fail (strict), are refused, or meet a broken API; the CSRF token."""
    csrf = AuthActions(app, client).csrf_token()
    delete(client, rec, csrf, ["100001"])
    delete(client, rec, csrf, ["100002", "100003", "999999999"], strict="1")
    delete(client, rec, csrf, ["bad/id"])  # refused before anything is sent
    rec.post(client, "/deletions/new", data={"ids_text": "100004\n100005", "csrf_token": csrf})
    rec.post(client, "/ops/track", data={"op_id": "424242", "csrf_token": csrf})
    run_poller_until_final(app)
    with app.app_context():
        states = set(db.session.scalars(select(DeletionRequest.state)))
    assert {"done", "done_with_errors"} <= states, "a success and a strict failure ran"
    sandbox.settings.rate_5xx = 1.0  # the API breaks down: error pages and fragments
    rec.get(client, "/images")
    rec.get(client, "/images/100009", headers={"HX-Request": "true"})
    delete(client, rec, csrf, ["100011"])
    sandbox.settings.rate_5xx = 0.0
    return csrf


def log_out_and_fail_a_login(client: FlaskClient, rec: Recorder, csrf: str) -> None:
    """Logout without and with CSRF, then a wrong password."""
    rec.post(client, "/logout")  # no CSRF token: 400 page
    rec.post(client, "/logout", data={"csrf_token": csrf})
    csrf = csrf_token_from(rec.get(client, "/login").get_data(as_text=True))
    rec.post(client, "/login", data={"username": "root", "password": "wrong", "csrf_token": csrf})


def test_no_secret_reaches_a_page_header_log_or_export(
    app: Flask,
    client: FlaskClient,
    sandbox,
    recorder: Recorder,
    everything_logged: pytest.LogCaptureFixture,
    make_database_url: Callable[..., str],
) -> None:
    rec = recorder
    setup_first_admin(app, client, rec, everything_logged)
    csrf = delete_in_every_way(app, client, rec, sandbox)
    browse(client, rec)
    use_the_api(app, client, rec)
    log_out_and_fail_a_login(client, rec, csrf)
    cli = use_the_cli(app)
    other = wrong_key_app(sandbox, make_database_url())
    try:
        visit_with_the_wrong_key(other, rec)
        secrets = secrets_of(app, other)
    finally:
        other.extensions["wesog_upstream"].close()
        with other.app_context():
            db.engine.dispose()
    with app.app_context():
        audit_rows = db.session.execute(text("SELECT * FROM audit_events")).all()
    logs = everything_logged.text
    assert len(rec.responses) > 80, rec.statuses()
    assert "INSERT INTO users" in logs, "SQL echo was captured"
    assert "/setup/" in logs and "LEAKCANARY" not in logs
    assert_nowhere(secrets, rec, logs, cli)
    for what, secret in secrets.items():
        assert not any(secret in str(row) for row in audit_rows), f"{what} in the audit log"
