"""`flask users …`: create, list, set-role, disable, token, setup-url; each change audited."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from tests.conftest import TEST_PASSWORD, csrf_token_from
from wesog_dash.cli.users import cli_actor
from wesog_dash.extensions import db
from wesog_dash.models import ApiToken, AuditEvent, User


def audit_of(app: Flask, action: str) -> list[AuditEvent]:
    """The audit events of one action."""
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def create(runner: FlaskCliRunner, name: str, role: str = "viewer"):
    """`users create NAME --role ROLE --password-stdin`."""
    args = ["users", "create", name, "--role", role, "--password-stdin"]
    return runner.invoke(args=args, input=TEST_PASSWORD + "\n")


def test_create_reads_the_password_from_stdin_and_audits(app: Flask, runner) -> None:
    result = create(runner, "ana", "operator")
    assert result.exit_code == 0, result.output
    assert "Created ana (operator)." in result.output
    assert TEST_PASSWORD not in result.output
    [event] = audit_of(app, "user.created")
    assert event.actor == cli_actor() and event.actor.startswith("cli:")
    assert event.details == {"username": "ana", "role": "operator"}


def test_create_prompts_for_the_password_twice(app: Flask, runner) -> None:
    typed = f"{TEST_PASSWORD}\ntypo typo typo\n{TEST_PASSWORD}\n{TEST_PASSWORD}\n"
    result = runner.invoke(args=["users", "create", "bob", "--role", "admin"], input=typed)
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert TEST_PASSWORD not in result.output, "the prompt does not echo"
    with app.app_context():
        assert db.session.scalar(select(User.role).where(User.username == "bob")) == "admin"


def test_create_refuses_bad_input_with_the_reason(runner) -> None:
    result = runner.invoke(args=["users", "create", "ana", "--password-stdin"], input="short\n")
    assert result.exit_code == 1
    assert "at least 10 characters" in result.output
    assert create(runner, "ana").exit_code == 0
    duplicate = create(runner, "ana")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output


def test_create_refuses_unknown_roles(runner) -> None:
    result = runner.invoke(args=["users", "create", "ana", "--role", "root", "--password-stdin"])
    assert result.exit_code == 2 and "root" in result.output


def test_list_shows_every_user_with_role_and_status(runner) -> None:
    assert "No users yet" in runner.invoke(args=["users", "list"]).output
    create(runner, "ana", "admin")
    create(runner, "bob", "viewer")
    runner.invoke(args=["users", "disable", "bob"])
    lines = runner.invoke(args=["users", "list"]).output.splitlines()
    assert re.match(r"ana\s+admin\s+active\s+0\s+never", lines[1])
    assert re.match(r"bob\s+viewer\s+disabled", lines[2])


def test_set_role_changes_the_role_and_audits(app: Flask, runner) -> None:
    create(runner, "ana")
    result = runner.invoke(args=["users", "set-role", "ana", "operator"])
    assert result.exit_code == 0 and "ana is now operator." in result.output
    [event] = audit_of(app, "user.role_changed")
    assert event.details == {"username": "ana", "from": "viewer", "to": "operator"}
    assert event.actor == cli_actor()
    missing = runner.invoke(args=["users", "set-role", "nobody", "admin"])
    assert missing.exit_code == 1 and "no user named 'nobody'" in missing.output


def test_disable_audits_and_refuses_the_last_admin(app: Flask, runner) -> None:
    create(runner, "root", "admin")
    create(runner, "ana")
    assert runner.invoke(args=["users", "disable", "ana"]).exit_code == 0
    [event] = audit_of(app, "user.disabled")
    assert event.details == {"username": "ana"} and event.actor == cli_actor()
    last = runner.invoke(args=["users", "disable", "root"])
    assert last.exit_code == 1 and "last active admin" in last.output


def test_token_is_printed_once_stored_as_a_hash_and_works(app: Flask, runner) -> None:
    create(runner, "ana", "operator")
    result = runner.invoke(args=["users", "token", "ana"])
    assert result.exit_code == 0, result.output
    token = result.stdout.split()[-1]  # the last word of the last line
    assert token.startswith("wsd_") and len(token) > 40
    with app.app_context():
        [row] = db.session.scalars(select(ApiToken))
        assert row.token_sha256 != token and len(row.token_sha256) == 64
    [event] = audit_of(app, "token.issued")
    assert event.details["username"] == "ana" and token not in str(event.details)
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.json["username"] == "ana" and response.json["scope"] == "operate"


def test_token_for_a_disabled_or_unknown_user_is_refused(runner) -> None:
    create(runner, "root", "admin")
    create(runner, "ana")
    runner.invoke(args=["users", "disable", "ana"])
    assert runner.invoke(args=["users", "token", "ana"]).exit_code == 1
    assert runner.invoke(args=["users", "token", "nobody"]).exit_code == 1


def test_setup_url_prints_a_working_one_time_url_while_no_user_exists(app: Flask, runner) -> None:
    result = runner.invoke(args=["users", "setup-url", "--base-url", "http://127.0.0.1:5000"])
    assert result.exit_code == 0
    [token] = re.findall(r"http://127\.0\.0\.1:5000/setup/(\S+)", result.output)
    client = app.test_client()
    page = client.get(f"/setup/{token}").get_data(as_text=True)
    data = {
        "username": "root",
        "password": TEST_PASSWORD,
        "password_confirm": TEST_PASSWORD,
        "csrf_token": csrf_token_from(page),
    }
    assert client.post(f"/setup/{token}", data=data).status_code == 302
    again = runner.invoke(args=["users", "setup-url"])
    assert again.exit_code == 0 and "Setup is complete (1 user exists)" in again.output
    assert "/setup/" not in again.output
