"""Login attempts are throttled per address, and per attacked username without locking its
owner out; counted in the database, so every process agrees."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import TEST_PASSWORD, AuthActions, csrf_token_from
from wesog_dash import create_app
from wesog_dash.extensions import db
from wesog_dash.models import LoginFailure

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """The limiter on, with a small limit so the tests stay short."""
    return {"WESOG_LOGIN_THROTTLE": True, "LOGIN_RATE_LIMIT": "3 per minute"}


def attempt(app: Flask, username: str, password: str, address: str) -> Any:
    """One login attempt from `address` (a fresh browser each time)."""
    client = app.test_client()
    environ = {"REMOTE_ADDR": address}
    token = csrf_token_from(client.get("/login", environ_base=environ).get_data(as_text=True))
    data = {"username": username, "password": password, "csrf_token": token}
    return client.post("/login", data=data, environ_base=environ)


@pytest.fixture
def users(app: Flask, client, auth: AuthActions) -> None:
    """Two viewers, ana and bob."""
    auth.create_user("ana", "viewer")
    auth.create_user("bob", "viewer")


def test_failures_from_one_address_are_limited_whatever_the_username(app: Flask, users) -> None:
    for name in ("ana", "bob", "carol"):
        assert attempt(app, name, "wrong password", "10.0.0.1").status_code == 401
    limited = attempt(app, "ana", TEST_PASSWORD, "10.0.0.1")
    assert limited.status_code == 429
    body = limited.get_data(as_text=True)
    assert "Too many failed logins" in body and "try again in" in body
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert 'name="password"' in body, "the form is still there, with the message"
    assert attempt(app, "ana", TEST_PASSWORD, "10.0.0.2").status_code == 302


def test_an_attacked_username_still_logs_in_from_an_address_without_failures(
    app: Flask, users
) -> None:
    for n in range(3):
        assert attempt(app, "ana", "wrong password", f"10.0.1.{n}").status_code == 401
    # ana is under attack, but her own address has no failure: the right password works.
    assert attempt(app, "ana", TEST_PASSWORD, "10.0.1.9").status_code == 302
    assert attempt(app, "bob", TEST_PASSWORD, "10.0.1.0").status_code == 302


def test_distributed_guessing_gets_three_guesses_per_address_and_window(app: Flask, users) -> None:
    for n in range(3):
        assert attempt(app, "ana", "wrong password", f"10.0.4.{n}").status_code == 401
    # ana is under attack; an address with one failure (her own typo) still gets in …
    assert attempt(app, "ana", TEST_PASSWORD, "10.0.4.0").status_code == 302
    # … and a new address gets at most three guesses (an owner may mistype twice).
    for guess in ("second", "third", "fourth"):
        assert attempt(app, "ana", f"{guess} guess", "10.0.4.50").status_code == 401
    assert attempt(app, "ana", "fifth guess", "10.0.4.50").status_code == 429


def test_every_process_counts_the_same_failures(app: Flask, users) -> None:
    """Two apps on one database stand for two gunicorn workers (or two hosts)."""
    other = create_app({**app.config, "TESTING": True})
    for target in (app, other, app):
        assert attempt(target, "ana", "wrong password", "10.0.5.1").status_code == 401
    assert attempt(other, "ana", TEST_PASSWORD, "10.0.5.1").status_code == 429


def test_the_throttle_never_stores_a_typed_username(app: Flask, users) -> None:
    attempt(app, "my secret passphrase", "x", "10.0.6.1")
    with app.app_context():
        stored = db.session.scalars(select(LoginFailure.username_sha256)).all()
    assert stored and all(len(value) == 64 for value in stored)
    assert "my secret passphrase" not in "".join(stored)


def test_successful_logins_do_not_count(app: Flask, users) -> None:
    for _ in range(5):
        assert attempt(app, "ana", TEST_PASSWORD, "10.0.2.1").status_code == 302


def test_the_login_page_itself_is_not_limited(app: Flask, users) -> None:
    for _ in range(3):
        attempt(app, "ana", "wrong password", "10.0.3.1")
    client = app.test_client()
    for _ in range(5):
        assert client.get("/login", environ_base={"REMOTE_ADDR": "10.0.3.1"}).status_code == 200
