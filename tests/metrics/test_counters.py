"""Counters and percentiles on a known set of operations equal what we compute by hand."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from tests.metrics.helpers import done, snapshot, store
from wesog_dash import metrics
from wesog_dash.extensions import db
from wesog_dash.metrics.digest import bucket_of, representative
from wesog_dash.models import utcnow

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

HOUR = metrics.period_named("hour")
DAY = metrics.period_named("day")


def known_operations() -> None:
    """Three finished operations (one with only failures), one running, one queued."""
    store(
        done(1, "del", good=10, bad=0, idle=100, run=1000),
        done(2, "del", good=3, bad=2, idle=300, run=2000),
        done(3, "upd", good=0, bad=4, idle=50, run=400),
        snapshot(4, "del", num_total=20, num_good=5, num_bad=1, is_started=True),
        snapshot(5, "del", num_total=7),
    )


def test_buckets_are_half_octaves_and_percentiles_use_the_nearest_rank() -> None:
    # By hand: 2*log2(100) = 13.29 -> bucket 14 = [2^6.5, 2^7) ms = [90.5, 128) ms.
    assert bucket_of(100) == 14 and bucket_of(90.6) == 14 and bucket_of(128) == 15
    assert bucket_of(0) == 0 and bucket_of(0.9) == 0 and bucket_of(1) == 1
    assert bucket_of(10**12) == 49
    counts = [0] * 50
    counts[14], counts[17] = 3, 1
    assert metrics.percentile(counts, 0.5) == pytest.approx(2**6.75)  # rank 2 of 4: bucket 14
    assert metrics.percentile(counts, 0.95) == pytest.approx(2**8.25)  # rank 4: bucket 17
    assert metrics.percentile([0] * 50, 0.5) is None


def test_counters_of_a_known_set_equal_the_hand_computed_values(app: Flask) -> None:
    with app.app_context():
        known_operations()
        c = metrics.counters(HOUR, utcnow())
        assert (c.ops_finished, c.ops_with_errors) == (3, 2)
        # Items: finished 10+3+0 good, 0+2+4 bad, plus the running one's 5 good and 1 bad.
        assert (c.items_good, c.items_bad, c.items) == (18, 7, 25)
        assert c.failure_rate == pytest.approx(7 / 25)
        assert c.now_by_state == {"running": 1, "queued": 1, "stale": 0}
        assert c.console_deleted == 0  # none of these belongs to a deletion of ours
        timings = {t.method: t for t in c.timings}
        assert set(timings) == {"all methods", "del", "upd"}
        every = timings["all methods"]
        # Queue waits 50, 100, 300 ms: p50 is the 2nd (100 ms, bucket 14), p95 the 3rd (300).
        assert every.ops == 3
        assert every.idle_p50 == pytest.approx(representative(bucket_of(100)))
        assert every.idle_p95 == pytest.approx(representative(bucket_of(300)))
        assert every.exec_p50 == pytest.approx(representative(bucket_of(1000)))
        assert every.exec_p95 == pytest.approx(representative(bucket_of(2000)))
        for estimate, exact in ((every.idle_p50, 100), (every.idle_p95, 300)):
            assert abs(estimate - exact) / exact < 0.19  # the promised precision
        assert timings["del"].idle_p50 == pytest.approx(representative(bucket_of(100)))
        assert timings["upd"].exec_p95 == pytest.approx(representative(bucket_of(400)))
        # The same rows read for 24 hours give the same totals.
        assert metrics.counters(DAY, utcnow()).items == 25


def test_an_empty_period_counts_nothing(app: Flask) -> None:
    with app.app_context():
        c = metrics.counters(DAY, utcnow())
        assert (c.ops_finished, c.items, c.failure_rate, c.timings) == (0, 0, None, [])
        assert c.deletions == 0
        known_operations()
        later = metrics.counters(HOUR, utcnow() + timedelta(hours=3))
        assert (later.ops_finished, later.items, later.failure_rate) == (0, 0, None)


def test_a_period_with_only_failures_has_a_failure_rate_of_one(app: Flask) -> None:
    with app.app_context():
        store(done(7, "del", good=0, bad=3, idle=10, run=20))
        c = metrics.counters(HOUR, utcnow())
        assert (c.items_good, c.items_bad, c.failure_rate, c.ops_with_errors) == (0, 3, 1.0, 1)


def test_running_operations_count_items_as_they_progress_and_finish_once(app: Flask) -> None:
    with app.app_context():
        running = {"num_total": 10, "is_started": True}
        store(snapshot(8, **running, num_good=2))
        store(snapshot(8, **running, num_good=2))  # polled again, nothing new
        assert metrics.counters(HOUR, utcnow()).items_good == 2
        assert metrics.counters(HOUR, utcnow()).ops_finished == 0
        store(done(8, "del", good=9, bad=1, idle=5, run=50))
        store(done(8, "del", good=9, bad=1, idle=5, run=50))  # listed again by discovery
        c = metrics.counters(HOUR, utcnow())
        assert (c.items_good, c.items_bad, c.ops_finished) == (9, 1, 1)


def test_the_overview_buckets_add_up_to_the_counters(app: Flask) -> None:
    with app.app_context():
        known_operations()
        view = metrics.overview(DAY, utcnow())
        assert len(view.buckets) == 24
        assert sum(b.items_good for b in view.buckets) == view.counters.items_good == 18
        assert sum(b.ops_finished for b in view.buckets) == 3
        # All three ended a minute ago: one bucket holds them (the last, or the one before it
        # in the first minute of an hour).
        [busy] = [b for b in view.buckets if b.ops_finished]
        assert busy.idle_p95 == pytest.approx(representative(bucket_of(300)))


def test_rollup_upserts_have_one_statement_shape_per_table(app: Flask) -> None:
    """Timings in many buckets still upsert with three SQL texts (minute, hour, day).

    A shape per touched column set filled SQLAlchemy's compiled cache with thousands of
    statements and grew the poller's memory on a busy tenant.
    """
    texts: set[str] = set()

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "metric_" in statement and statement.lstrip().upper().startswith("INSERT"):
            texts.add(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            for n in range(1, 41):
                store(done(n, "del" if n % 2 else "add", n, n % 3, idle=1.7**n, run=n * 3.1))
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        hour = metrics.counters(HOUR, utcnow())
    assert hour.ops_finished == 40
    assert len(texts) == 3, sorted(texts)
