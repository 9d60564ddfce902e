"""The audit reason search: words and prefixes through the full-text index, kept by triggers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import text

from tests.audit.helpers import add_events
from wesog_dash.audit import chain as audit_chain
from wesog_dash.audit.queries import AuditFilters, page
from wesog_dash.audit.search import tokens
from wesog_dash.extensions import db
from wesog_dash.models import utcnow

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


def found(app: Flask, q: str) -> list[int]:
    """Ids of the events the reason search `q` finds, oldest first."""
    with app.app_context():
        return sorted(event.id for event in page(AuditFilters(q=q), size=200).events)


def test_words_and_prefixes_find_reasons_in_any_case(app: Flask) -> None:
    dmca = add_events(app, 2, reason="DMCA takedown notice")
    licence = add_events(app, 1, reason="Expired licence for the photo")
    license_ = add_events(app, 1, reason="license revoked, see DMCA ticket")
    add_events(app, 1, reason="duplicate upload")
    assert found(app, "dmca") == sorted(dmca + license_)
    assert found(app, "licen*") == sorted(licence + license_)
    assert found(app, "dmca licen*") == license_  # every word must be there
    assert found(app, "Takedown") == dmca
    assert found(app, "take") == []  # a word, not a substring: "take*" would find it
    assert found(app, "take*") == dmca


@pytest.mark.sqlite_only  # the FTS5 table; PostgreSQL uses its tsvector index
def test_the_search_uses_the_full_text_index(app: Flask) -> None:
    add_events(app, 1, reason="GDPR erasure request")
    with app.app_context():
        rows = db.session.execute(
            text("SELECT rowid FROM audit_reason_fts WHERE audit_reason_fts MATCH 'gdpr'")
        ).all()
        assert len(rows) == 1
        sql = str(
            db.session.query(db.text("1")).filter(*AuditFilters(q="gdpr").conditions()).statement
        )
        assert "audit_reason_fts MATCH" in sql and "LIKE" not in sql


def test_search_syntax_in_the_query_is_taken_as_plain_text(app: Flask) -> None:
    quoted = add_events(app, 1, reason='he said "NEAR(a b)" AND OR NOT')
    for q in ['"', "NEAR(", "a* OR", "*", "(((", "AND", "-x", "é"]:
        found(app, q)  # never an FTS syntax error
    assert found(app, '"NEAR(a b)"') == quoted
    assert tokens("Dmca, licen* x_y") == [
        ("dmca", False),
        ("licen", True),
        ("x", False),
        ("y", False),
    ]


@pytest.mark.sqlite_only  # reads the FTS5 table itself
def test_pruned_events_leave_the_index(app: Flask) -> None:
    add_events(app, 3, reason="spam wave")
    with app.app_context():
        audit_chain.prune(utcnow() + timedelta(days=1), actor="cli:test")
        left = db.session.execute(
            text("SELECT count(*) FROM audit_reason_fts WHERE audit_reason_fts MATCH 'spam'")
        ).scalar()
        assert left == 0
    assert found(app, "spam") == []
