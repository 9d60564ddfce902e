"""Each action in the audit area's reach writes exactly one event, with the right actor."""

from __future__ import annotations

import getpass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.audit.helpers import actions
from tests.conftest import TEST_PASSWORD, AuthActions, csrf_token_from
from wesog_dash import accounts, deletions
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


def newest(app: Flask) -> AuditEvent:
    """The latest event, detached."""
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None
        db.session.expunge(event)
        return event


def log_in(client: FlaskClient, username: str, password: str) -> int:
    """POST the real login form; returns the status code."""
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    data = {"username": username, "password": password, "csrf_token": token}
    return client.post("/login", data=data).status_code


def test_creating_a_user_writes_one_user_created_event(app: Flask) -> None:
    with app.app_context():
        accounts.create_user("carol", TEST_PASSWORD, "operator", actor="cli:root")
    assert actions(app) == ["user.created"]
    event = newest(app)
    assert event.actor == "cli:root" and event.details == {"username": "carol", "role": "operator"}


def test_a_successful_login_writes_one_event(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.create_user("dave", "viewer")
    assert log_in(client, "dave", TEST_PASSWORD) == 302
    assert actions(app) == ["user.created", "login.succeeded"]
    event = newest(app)
    assert event.actor == "dave" and event.remote_addr == "127.0.0.1"


def test_a_failed_login_writes_one_event_without_the_password(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.create_user("erin", "viewer")
    assert log_in(client, "erin", "wrong password!") == 401
    assert actions(app) == ["user.created", "login.failed"]
    event = newest(app)
    assert event.details.get("username") == "erin"
    assert "wrong password!" not in str(event.details) + str(event.reason)


def test_cli_verify_writes_one_event(app: Flask, runner) -> None:
    runner.invoke(args=["audit", "verify"])
    assert actions(app) == ["audit.verified"]
    assert newest(app).actor == f"cli:{getpass.getuser()}"


def test_cli_prune_writes_one_event(app: Flask, runner) -> None:
    with app.app_context():
        accounts.create_user("frank", TEST_PASSWORD, "viewer", actor="cli:root")
    runner.invoke(args=["audit", "prune", "--before", "2100-01-01", "--yes"])
    assert actions(app) == ["audit.pruned"]
    assert newest(app).actor == f"cli:{getpass.getuser()}"


def test_a_deletion_request_writes_one_deletion_requested_event(app: Flask) -> None:
    with app.app_context():
        deletion = deletions.request_deletion(
            ["100001", "100002"],
            deletions.DeletionOptions("duplicate upload"),
            deletions.Requester("alice", None, "10.0.0.7"),
        )
        deletion_id = deletion.id
    assert actions(app) == ["deletion.requested"]  # a batch: sent later by the dispatcher
    event = newest(app)
    assert (event.actor, event.deletion_id, event.reason, event.remote_addr) == (
        "alice",
        deletion_id,
        "duplicate upload",
        "10.0.0.7",
    )
