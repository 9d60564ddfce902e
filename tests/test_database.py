"""The two engines behave alike: URLs, engine options, times, big ids, JSON, text search."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from tests.conftest import AuthActions, engine_events, wait_for
from wesog_dash import audit
from wesog_dash.audit.queries import AuditFilters, page
from wesog_dash.database import closed_by_server, engine_options, normalize_url
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent, Lease

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

PG = "postgresql+psycopg://u@db.example:5432/wesog"


@pytest.mark.parametrize(
    "bare", ["postgres://u@db.example:5432/wesog", "postgresql://u@db.example:5432/wesog"]
)
def test_a_bare_postgresql_url_gets_the_psycopg_3_driver(bare: str) -> None:
    assert normalize_url(bare) == PG
    assert normalize_url(PG) == PG
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_waits_for_its_write_lock_and_postgresql_checks_pooled_connections() -> None:
    sqlite, postgresql = engine_options("sqlite:///x.db"), engine_options(PG)
    assert sqlite["connect_args"] == {"timeout": 10} and "pool_pre_ping" not in sqlite
    assert "pool_pre_ping" not in postgresql  # a test query per request; see the next test
    assert "timeout" not in postgresql["connect_args"]  # psycopg would refuse it
    assert sqlite["hide_parameters"] is postgresql["hide_parameters"] is True


@pytest.mark.postgresql_only
def test_a_connection_the_server_closed_is_replaced_at_checkout_without_an_error(
    app: Flask,
) -> None:
    backend = text("SELECT pg_backend_pid()")
    alive = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
    with app.app_context():
        first = db.session.scalar(backend)
        db.session.remove()  # back to the pool, idle
        admin = create_engine(db.engine.url, poolclass=NullPool)  # not a pooled connection
        with admin.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            other.commit()

            def gone() -> bool:
                # pg_stat_activity is a snapshot per transaction: a new one for each look.
                found = other.execute(alive, {"pid": first}).scalar()
                other.commit()
                return found == 0

            # Gone: it told its client why and closed the socket, as a restart does.
            wait_for(gone, timeout=5)
        admin.dispose()
        second = db.session.scalar(backend)  # no OperationalError: replaced at checkout
        assert second != first
        assert not closed_by_server(db.session.connection().connection.dbapi_connection)


@contextmanager
def transactions_seen(app: Flask) -> Iterator[list[tuple[int, bool]]]:
    """For each statement the app's engine runs meanwhile: (backend pid, in autocommit)."""
    seen: list[tuple[int, bool]] = []

    def note(connection: Any, *_args: Any) -> None:
        dbapi_connection = connection.connection.dbapi_connection
        seen.append((dbapi_connection.info.backend_pid, dbapi_connection.autocommit))

    with engine_events(app, "before_cursor_execute", note):
        yield seen


@pytest.mark.postgresql_only
def test_a_polled_fragment_reads_outside_a_transaction_and_a_page_inside_one(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("viewer")
    with transactions_seen(app) as polled:
        assert client.get("/ops/running", headers={"HX-Request": "true"}).status_code == 200
    with transactions_seen(app) as page:
        for _ in range(5):  # the pool hands its connections out in turn
            assert client.get("/ops").status_code == 200
    # No BEGIN and ROLLBACK around a poll's reads: two round trips of every tab's every poll.
    assert polled and all(autocommit for _pid, autocommit in polled)
    # The same pooled connection, given back transactional: pages and writes keep theirs.
    assert {pid for pid, _ in polled} & {pid for pid, _ in page}
    assert page and not any(autocommit for _pid, autocommit in page)


def test_times_read_back_timezone_aware_in_utc(app: Flask) -> None:
    madrid = timezone(timedelta(hours=1))
    with app.app_context():
        moment = datetime(2026, 1, 2, 3, 4, 5, 678901, madrid)
        db.session.add(Lease(name="t", holder="h", expires_at=moment))
        db.session.commit()
        db.session.expunge_all()
        stored = db.session.get(Lease, "t")
        assert stored is not None and stored.expires_at == moment
        assert stored.expires_at.tzinfo is UTC and stored.expires_at.hour == 2
        # Comparisons happen in the database too, with the instant (not the wall time).
        later = select(Lease.name).where(Lease.expires_at > moment - timedelta(microseconds=1))
        assert db.session.scalars(later).all() == ["t"]


def test_a_naive_time_is_refused(app: Flask) -> None:
    with app.app_context():
        db.session.add(Lease(name="t", holder="h", expires_at=datetime(2026, 1, 2)))
        with pytest.raises(Exception, match="naive datetime"):
            db.session.commit()
        db.session.rollback()


def test_64_bit_operation_ids_and_unicode_details_survive_the_audit_log(app: Flask) -> None:
    big, details = 2**53 + 1, {"names": ["Ærø", "日本"], "n": 1.5, "nested": {"b": None}}
    with app.app_context():
        event_id = audit.record("operation.tracked", op_id=big, details=details).id
        db.session.commit()
        db.session.expunge_all()
        event = db.session.get(AuditEvent, event_id)
        assert event is not None and (event.op_id, event.details) == (big, details)
        assert event.hash == audit.event_hash(event)
        assert [e.id for e in page(AuditFilters(op_id=big)).events] == [event_id]


def test_the_reason_search_ignores_case_on_both_engines(app: Flask, client, auth: AuthActions):
    with app.app_context():
        for reason in ("GDPR request 12", "gdpr again", "Spam_and 100% junk", "other"):
            audit.record("login.succeeded", reason=reason)
        db.session.commit()

        def found(q: str) -> list[str]:
            return sorted(str(e.reason) for e in page(AuditFilters(q=q)).events)

        assert found("gdpr") == found("GDPR") == ["GDPR request 12", "gdpr again"]
        # Full-text search: words and prefixes, whatever their case.
        assert found("JUNK") == found("jun*") == ["Spam_and 100% junk"]
        found("%")  # a bare symbol is searched as text, never an error
    auth.login("viewer")
    assert "gdpr again" in client.get("/audit?view=all&q=GdPr").get_data(as_text=True)
