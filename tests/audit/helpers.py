"""Shared helpers for the audit tests: writing events, reading them, tampering with SQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, text

from wesog_dash import audit
from wesog_dash.audit import recording
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent


def add_events(app: Flask, count: int, **fields: Any) -> list[int]:
    """Record `count` events (reason "event n") and commit; returns their ids."""
    ids = []
    with app.app_context():
        for n in range(count):
            values = {"reason": f"event {n}", **fields}
            ids.append(audit.record(values.pop("action", "login.succeeded"), **values).id)
        db.session.commit()
    return ids


def event_ids(app: Flask, **where: Any) -> list[int]:
    """Ids of the events matching column == value, in chain order."""
    with app.app_context():
        query = select(AuditEvent.id).order_by(AuditEvent.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return list(db.session.scalars(query))


def actions(app: Flask) -> list[str]:
    """Every recorded action, in chain order."""
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def tamper(app: Flask, sql: str, *params: Any) -> None:
    """Change the database behind the console's back, as someone with write access could.

    `sql` takes sqlite3's `?` placeholders; it runs on its own connection, committed.
    """
    names = [f"p{n}" for n in range(len(params))]
    first, *rest = sql.split("?")
    statement = first + "".join(f":{n}{part}" for n, part in zip(names, rest, strict=True))
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(statement), dict(zip(names, params, strict=True)))


def engine_name(app: Flask) -> str:
    """The app's database engine: `sqlite` or `postgresql`."""
    with app.app_context():
        return db.engine.dialect.name


class Clock:
    """A settable clock for `audit.record` (so events can be dated in the past)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)


@contextmanager
def clock_at(monkeypatch: Any, start: datetime) -> Iterator[Clock]:
    """Make `audit.record` stamp events with `Clock` times."""
    clock = Clock(start.astimezone(UTC))
    with monkeypatch.context() as patch:
        patch.setattr(recording, "utcnow", clock)
        yield clock
