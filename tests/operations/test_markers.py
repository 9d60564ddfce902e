"""Change markers of the polled lists: they change with what a list could show, cost the
same at a million finished operations as at ten, and stay put when nothing happened."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text

from tests.metrics.helpers import done, snapshot, store
from wesog_dash import deletions, operations
from wesog_dash.extensions import db

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


def marker(app: Flask) -> str:
    """Both markers the overview polls, read now."""
    with app.app_context():
        value = operations.operations_marker() + "|" + deletions.deletions_marker()
        db.session.remove()
        return value


def test_the_marker_changes_with_every_visible_change_and_only_then(app: Flask) -> None:
    """New rows (even an older, finished one discovered late), progress and ends show."""
    with app.app_context():
        store(snapshot(50, num_total=10), done(40, "del", 3, 0, idle=5, run=9))
    seen = [marker(app)]
    assert marker(app) == seen[-1]  # nothing happened: same marker, the list answers 204
    steps = [
        snapshot(50, num_total=10, num_good=4, is_started=True),  # progress
        done(7, "add", 2, 0, idle=1, run=2),  # an older operation, already finished, appears
        done(50, "del", 10, 0, idle=5, run=9),  # the running one ends
    ]
    for step in steps:
        with app.app_context():
            store(step)
        seen.append(marker(app))
        assert seen[-1] != seen[-2], step
    assert marker(app) == seen[-1]


@pytest.mark.sqlite_only
def test_no_marker_query_walks_the_whole_table(app: Flask) -> None:
    """Every table access of both markers goes through an index (a scan costs 220 ms at
    1,000,000 operations, on every poll of every open list)."""
    from wesog_dash.deletions.markers import MARKER_SQL as DELETIONS_SQL
    from wesog_dash.operations.markers import MARKER_SQL as OPERATIONS_SQL

    with app.app_context():
        for statement in (OPERATIONS_SQL, DELETIONS_SQL):
            plan = db.session.execute(text(f"EXPLAIN QUERY PLAN {statement.text}")).all()
            details = [row[-1] for row in plan]
            scans = [d for d in details if d.startswith("SCAN") and "INDEX" not in d]
            assert not scans, details
