"""Reports, the overview and a hand count agree on the same deletions: requests counted once
each, rows that add up to their totals, the CSV the same as the page."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import FAST_POLLING, AuthActions, cycle_until
from tests.conftest import request_deletion as request
from wesog_dash import deletions, metrics
from wesog_dash.extensions import db
from wesog_dash.metrics import reports
from wesog_dash.metrics.requests import top_reasons
from wesog_dash.models import DeletionItem, DeletionRequest, utcnow
from wesog_dash.poller import Poller

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

HOUR = metrics.period_named("hour")


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling."""
    return dict(FAST_POLLING)


def hand_count(app: Flask) -> tuple[int, Counter[str]]:
    """Requests, and images by outcome, counted row by row."""
    with app.app_context():
        requests = list(db.session.scalars(select(DeletionRequest)))
        outcomes = Counter(item.outcome for item in db.session.scalars(select(DeletionItem)))
        return len(requests), outcomes


def ended(app: Flask, deletion_ids: list[int]) -> bool:
    """True once every one of these deletions is final."""
    with app.app_context():
        states = [deletions.get_deletion(i).state for i in deletion_ids]  # type: ignore[union-attr]
        return all(state in ("done", "done_with_errors") for state in states)


def test_three_single_image_requests_with_one_reason_are_three_everywhere(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller
) -> None:
    deleted = request(app, ["100001"], "one reason")
    never_there = request(app, ["no-such-image"], "one reason")
    undone = request(app, ["100003"], "one reason", undo_seconds=60)
    with app.app_context():
        deletions.undo(undone, "alice")
    cycle_until(poller, lambda: ended(app, [deleted, never_there]))
    requests, outcomes = hand_count(app)
    assert (requests, dict(outcomes)) == (3, {"deleted": 1, "not_found": 1, "not_sent": 1})
    auth.login("viewer")
    detail = list(csv.DictReader(io.StringIO(client.get("/reports/deletions.csv").text)))
    [row] = detail
    assert (row["actor"], row["reason"], row["requests"], row["images"]) == (
        "alice",
        "one reason",
        "3",
        "3",
    )
    assert sum(int(row[o]) for o in reports.OUTCOMES) == int(row["images"])
    assert {o: int(row[o]) for o in outcomes} == dict(outcomes)
    days = list(csv.DictReader(io.StringIO(client.get("/reports/days.csv").text)))
    [today] = [d for d in days if d["day"] == utcnow().date().isoformat()]
    states = sum(int(today[s]) for s in (*reports.STATES, "other_states"))
    assert int(today["deletions_requested"]) == states == requests
    images = sum(int(today[f"images_{o}"]) for o in reports.OUTCOMES)
    assert int(today["images_requested"]) == images == sum(outcomes.values())
    assert today["images_deleted"] == "1" and today["images_not_found"] == "1"
    assert today["images_not_sent"] == "1" and today["cancelled"] == "1"
    page = client.get("/reports").text
    assert 'data-total="deletions_requested">3<' in page
    assert 'data-total="images_not_sent">1<' in page
    with app.app_context():
        counters = metrics.counters(HOUR, utcnow())
        assert counters.deletions == requests
        assert counters.console_deleted == outcomes["deleted"]
        top = top_reasons(utcnow().replace(hour=0, minute=0, second=0, microsecond=0))
        assert [(r.name, r.requests, r.images) for r in top] == [("one reason", 3, 3)]
