"""/reports: counters per day of a range, and their CSV downloads."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions
from tests.metrics.helpers import done, store
from wesog_dash.extensions import db
from wesog_dash.models import DeletionItem, DeletionRequest, utcnow

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


def make_deletion(actor: str, reason: str, outcomes: list[str], state: str) -> None:
    """A deletion request with items already settled (as the outbox leaves them)."""
    now = utcnow()
    deletion = DeletionRequest(
        actor=actor,
        reason=reason,
        item_count=len(outcomes),
        ids_sha256="x",
        state=state,
        created_at=now,
    )
    db.session.add(deletion)
    db.session.flush()
    for n, outcome in enumerate(outcomes):
        db.session.add(
            DeletionItem(
                deletion_id=deletion.id,
                position=n,
                image_id=f"i{n}",
                outcome=outcome,
                settled_at=now,
            )
        )
    db.session.commit()


def test_the_report_of_this_month_counts_deletions_by_day_person_and_reason(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    with app.app_context():
        make_deletion(
            "alice", "DMCA takedown", ["deleted", "deleted", "failed"], "done_with_errors"
        )
        make_deletion("alice", "DMCA takedown", ["deleted"], "done")
        make_deletion("bob", "=HYPERLINK(1)", ["not_found"], "done_with_errors")
        store(done(1, "del", good=3, bad=1, idle=10, run=10))
    auth.login("viewer")
    page = client.get("/reports").text
    assert 'data-total="deletions_requested">3<' in page
    assert 'data-total="images_deleted">3<' in page and 'data-total="images_failed">1<' in page
    response = client.get("/reports/days.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    today = [row for row in rows if row["day"] == utcnow().date().isoformat()]
    assert len(today) == 1
    assert today[0]["deletions_requested"] == "3" and today[0]["images_deleted"] == "3"
    assert today[0]["done_with_errors"] == "2" and today[0]["operations_finished"] == "1"
    assert today[0]["operation_items_failed"] == "1"
    detail = list(csv.DictReader(io.StringIO(client.get("/reports/deletions.csv").text)))
    alice = next(row for row in detail if row["actor"] == "alice")
    assert (alice["requests"], alice["images"], alice["deleted"], alice["failed"]) == (
        "2",
        "4",
        "3",
        "1",
    )
    bob = next(row for row in detail if row["actor"] == "bob")
    assert bob["reason"] == "'=HYPERLINK(1)"  # a spreadsheet must not run it


def test_bad_dates_are_explained_and_change_nothing(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("viewer")
    response = client.get("/reports?from=yesterday&to=2020-01-01")
    assert response.status_code == 200
    assert "From: write the date as YYYY-MM-DD" in response.text
    assert client.get("/reports/days.csv?from=2026-01-01&to=2030-01-01").status_code == 200
    far = client.get("/reports?from=9999-12-31&to=9999-12-31")
    assert far.status_code == 200 and "From: dates go up to" in far.text
