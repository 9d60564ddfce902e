"""The last active admin stays protected when two admins act at the same moment."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import select

from wesog_dash import accounts
from wesog_dash.extensions import db
from wesog_dash.models import User

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app: Flask) -> None:
    with app.app_context():
        for name in ("ann", "bob"):
            accounts.create_user(name, "long enough password", "admin", actor="cli:test")
    start, outcomes = threading.Barrier(2), {}

    def demote(actor: str, target: str) -> None:
        with app.app_context():
            start.wait()
            try:
                accounts.set_role(target, "viewer", actor=actor)
                outcomes[target] = "demoted"
            except accounts.AccountError as error:
                outcomes[target] = str(error)

    threads = [
        threading.Thread(target=demote, args=("ann", "bob")),
        threading.Thread(target=demote, args=("bob", "ann")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    [kept] = [name for name, outcome in outcomes.items() if outcome != "demoted"]
    assert list(outcomes.values()).count("demoted") == 1, outcomes
    assert "is the last active admin" in outcomes[kept]
    with app.app_context():
        active = select(User.username).where(User.role == "admin", User.disabled.is_(False))
        assert db.session.scalars(active).all() == [kept]
