"""Old minute rollups are pruned in small batches, and no period's numbers change."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import wait_for
from tests.metrics.helpers import done, store
from wesog_dash import metrics
from wesog_dash.extensions import db
from wesog_dash.metrics.periods import epoch_minute
from wesog_dash.metrics.rollups import upsert
from wesog_dash.models import metric_days, metric_hours, metric_minutes, utcnow
from wesog_dash.poller import Poller

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

HOUR_S, DAY_S = 3600, 86400


def known_operations() -> None:
    """Finished operations from a minute to 20 days ago, and items seen 200 and 400 min ago."""
    store(
        done(1, "del", good=10, bad=0, idle=100, run=1000, ago=60),
        done(2, "upd", good=0, bad=4, idle=50, run=400, ago=30 * 60),
        done(3, "del", good=3, bad=2, idle=300, run=2000, ago=3 * HOUR_S),
        done(4, "del", good=1, bad=1, idle=5000, run=60000, ago=5 * HOUR_S + 600),
        done(5, "upd", good=2, bad=0, idle=20, run=90, ago=3 * DAY_S),
        done(6, "del", good=0, bad=1, idle=7, run=70000, ago=20 * DAY_S),
    )
    # Items are counted in the minute they were seen: older sightings, as the poller adds them.
    now = epoch_minute(utcnow())
    upsert("del", now - 200, {"items_good": 7, "items_bad": 3})
    upsert("del", now - 400, {"items_good": 1, "items_bad": 5})
    db.session.commit()


def everything(now: datetime) -> list[Any]:
    """Every period's overview (counters, percentiles, chart buckets) and the realtime chart."""
    return [metrics.overview(period, now) for period in metrics.PERIODS] + [metrics.realtime(now)]


def rows(table: Any, older_than: int | None = None) -> int:
    key = table.c[table.name.removeprefix("metric_").removesuffix("s")]
    query = select(func.count()).select_from(table)
    if older_than is not None:
        query = query.where(key < older_than)
    return db.session.scalar(query) or 0


def test_pruning_old_minutes_changes_no_number_of_any_period(app: Flask) -> None:
    with app.app_context():
        known_operations()
        now = utcnow()
        before = everything(now)
        assert metrics.minutes_kept() == 120  # twice the last hour, the longest minute read
        cutoff = epoch_minute(now) - 120 + 1
        old, hours, days = rows(metric_minutes, cutoff), rows(metric_hours), rows(metric_days)
        assert old == 6  # ops 3, 4, 5, 6 and the two older sightings
        # One batch is at most an hour of minutes: the 20-day, 3-day, 400- and 310-minute-old
        # rows go one by one, the 200- and 180-minute-old rows together, then nothing is left.
        batches = [metrics.prune_minutes(now) for _ in range(6)]
        assert batches == [1, 1, 1, 1, 2, 0]
        assert rows(metric_minutes, cutoff) == 0
        assert rows(metric_minutes) > 0  # the last two hours stay
        assert (rows(metric_hours), rows(metric_days)) == (hours, days)
        after = everything(now)
    assert after == before
    hour, day, week, month, _ = after
    # Items of ops 1-6 were all seen now (16 good, 8 bad); the day adds the older sightings.
    assert (hour.counters.ops_finished, hour.counters.items) == (2, 24)
    assert (day.counters.ops_finished, day.counters.items_bad) == (4, 8 + 3 + 5)
    assert (week.counters.ops_finished, month.counters.ops_finished) == (5, 6)
    assert month.counters.timings[0].exec_p95 == pytest.approx(
        metrics.digest.representative(metrics.bucket_of(70000))
    )


def test_a_horizon_below_the_last_hour_is_raised_to_it(app: Flask) -> None:
    app.config["WESOG_METRIC_MINUTES_KEEP"] = 5
    with app.app_context():
        known_operations()
        now = utcnow()
        before = metrics.overview(metrics.period_named("hour"), now)
        assert metrics.minutes_kept() == 60
        while metrics.prune_minutes(now):
            pass
        assert rows(metric_minutes, epoch_minute(now) - 59) == 0
        assert metrics.overview(metrics.period_named("hour"), now) == before


def test_the_poller_prunes_in_a_helper_thread_without_holding_up_its_cycle(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        known_operations()
    release, entered = threading.Event(), threading.Event()
    prune = metrics.prune_old_minutes

    def held_prune() -> int:
        entered.set()
        release.wait(30)  # the prune is slow: the cycle below must not wait for it
        return prune()

    monkeypatch.setattr(metrics, "prune_old_minutes", held_prune)
    poller = Poller(app)
    try:
        poller.run_once()
        assert entered.wait(10)
        assert not release.is_set()  # the cycle ended while the prune was still held
        poller.run_once()  # a second cycle starts no second prune meanwhile
        release.set()
        with app.app_context():
            cutoff = epoch_minute(utcnow()) - 119
            wait_for(lambda: (db.session.rollback(), rows(metric_minutes, cutoff) == 0)[1])
    finally:
        release.set()
        poller.close()
