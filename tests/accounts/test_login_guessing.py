"""Guessing one username: its owner still gets in (two typos allowed, even under attack), and
hundreds of source addresses buy no more than the hour's budget of quick guesses — then every
guess waits longer, and none of it ever refuses the owner's right password."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import TEST_PASSWORD, AuthActions
from wesog_dash.accounts import throttle
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

BUDGET = 20
TRIES = 200  # source addresses, one guess each
MOST = 0.004  # seconds: the real default is 30; the test only needs the shape


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """The throttle on; a small budget and tiny waits so that hundreds of guesses run fast."""
    return {
        "WESOG_LOGIN_THROTTLE": True,
        "LOGIN_RATE_LIMIT": "10 per minute",
        "LOGIN_NAME_BUDGET": BUDGET,
        "LOGIN_SLOWDOWN_BASE": 0.0005,
        "LOGIN_SLOWDOWN_MAX": MOST,
        "WTF_CSRF_ENABLED": False,
    }


@pytest.fixture
def adm(auth: AuthActions) -> str:
    """The admin whose name is attacked."""
    auth.create_user("adm", "admin")
    return "adm"


def attempt(app: Flask, username: str, password: str, address: str) -> int:
    """One login attempt from `address` (a fresh browser); the status code."""
    client = app.test_client()
    data = {"username": username, "password": password}
    return client.post("/login", data=data, environ_base={"REMOTE_ADDR": address}).status_code


def slowed(app: Flask) -> list[float]:
    """How long each failed login was slowed down, oldest first (0: not at all)."""
    with app.app_context():
        details = db.session.scalars(
            select(AuditEvent.details)
            .where(AuditEvent.action == "login.failed")
            .order_by(AuditEvent.id)
        ).all()
    return [float(d.get("slowed_seconds", 0)) for d in details]


def test_the_owner_who_mistyped_twice_gets_in_while_the_name_is_attacked(
    app: Flask, adm: str
) -> None:
    for n in range(12):  # an attacker keeps the name over the limit from elsewhere
        assert attempt(app, adm, f"guess {n}", f"127.20.0.{n // 3}") == 401
    own = "127.0.0.5"
    assert attempt(app, adm, "typo one", own) == 401
    assert attempt(app, adm, "typo two", own) == 401
    assert attempt(app, adm, TEST_PASSWORD, own) == 302
    # An address with three failures is past an owner's typos: refused, right password or not.
    assert attempt(app, adm, TEST_PASSWORD, "127.20.0.0") == 429
    assert attempt(app, adm, TEST_PASSWORD, "127.0.0.77") == 302  # a clean address


def test_hundreds_of_addresses_get_the_budget_then_ever_slower_guesses(
    app: Flask, adm: str
) -> None:
    addresses = [f"127.30.{n // 100}.{n % 100 + 1}" for n in range(TRIES)]
    answers = [attempt(app, adm, f"guess {n}", address) for n, address in enumerate(addresses)]
    assert answers == [401] * TRIES  # each address is clean: its guess is checked …
    delays = slowed(app)
    assert len(delays) == TRIES
    assert delays[:BUDGET] == [0.0] * BUDGET  # … the hour's budget at full speed …
    assert all(d > 0 for d in delays[BUDGET:])  # … then every one waits,
    assert delays[BUDGET:] == sorted(delays[BUDGET:]) and delays[-1] == MOST  # longer and longer
    # The owner: two typos and the right password from a clean address, never refused.
    assert attempt(app, adm, "typo", "127.0.0.9") == 401
    assert attempt(app, adm, "typo", "127.0.0.9") == 401
    assert attempt(app, adm, TEST_PASSWORD, "127.0.0.9") == 302
    assert slowed(app)[-1] == MOST


def test_an_ipv6_host_counts_as_its_64(app: Flask, adm: str) -> None:
    assert throttle.address_key("2001:db8:1:2::a") == throttle.address_key("2001:db8:1:2:ff::1")
    assert throttle.address_key("2001:db8:1:2::a") != throttle.address_key("2001:db8:1:3::a")
    assert throttle.address_key("::ffff:127.0.0.1") == "127.0.0.1"
    for n in range(10):  # ten addresses of one /64: one address to the throttle
        assert attempt(app, "nobody", "guess", f"2001:db8:1:2::{n + 1:x}") == 401
    assert attempt(app, adm, TEST_PASSWORD, "2001:db8:1:2::ffff") == 429
    assert attempt(app, adm, TEST_PASSWORD, "2001:db8:1:3::1") == 302
