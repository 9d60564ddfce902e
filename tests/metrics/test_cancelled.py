"""Work cancelled before it ran is neither good nor bad: not in the failure rate, not an
operation with errors, grey in its bar; the real sandbox's cancelled operation end to end."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.conftest import FAST_POLLING
from tests.conftest import request_deletion as request
from tests.metrics.helpers import done, snapshot, store
from wesog_dash import deletions, metrics
from wesog_dash.extensions import db
from wesog_dash.models import Operation, utcnow
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer, SandboxSettings
from wesog_dash.views.display import bar_of, deletion_bar, word

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

HOUR = metrics.period_named("hour")


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Chunks of 5 ids, every chunk sent at once (each stays queued while the API holds)."""
    return {**FAST_POLLING, "WESOG_CHUNK_SIZE": 5, "WESOG_MAX_INFLIGHT_OPS": 4}


def cancelled(op_id: int, count: int) -> Any:
    """An operation upstream cancelled before it started (every element "cancelled")."""
    errors = [{"id": 100000 + n, "msg": "cancelled"} for n in range(count)]
    return snapshot(
        op_id, num_total=count, num_bad=count, is_finished=True, errors=errors, finished_ago=30
    )


def test_a_cancelled_operation_counts_neither_good_nor_bad(app: Flask) -> None:
    with app.app_context():
        store(done(1, "del", good=97, bad=3, idle=10, run=100), cancelled(2, 1000))
        c = metrics.counters(HOUR, utcnow())
        assert (c.items_good, c.items_bad, c.ops_finished, c.ops_with_errors) == (97, 3, 1, 1)
        assert c.failure_rate == pytest.approx(0.03)  # 3 %, not 1003 of 1100
        row = db.session.get(Operation, 2)
        assert row is not None and row.state == "cancelled"
        bar = bar_of(row)
        assert (bar.good, bar.bad, bar.muted, bar.widths) == (0, 0, 1000, (0, 0, 100))
        metrics.rebuild()
        again = metrics.counters(HOUR, utcnow())
        assert (again.items_good, again.items_bad, again.ops_finished) == (97, 3, 1)


@pytest.mark.parametrize(
    "sandbox_settings",
    [SandboxSettings(api_key="test-key-5f3a", images=60, item_ms=0, start_ms=0, hold=True)],
)
def test_cancelling_queued_chunks_reads_cancelled_upstream_and_grey(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    ids = [str(100001 + n) for n in range(15)]
    deletion_id = request(app, ids, kind="list")
    poller.run_once()  # three chunks sent, all queued upstream (hold)
    with app.app_context():
        report = deletions.cancel(deletion_id, "olga")
        assert len(report.cancelled_ops) == 3
        deletion = deletions.get_deletion(deletion_id)
        assert deletion is not None and deletion.state == "cancelled"
        assert deletions.outcome_counts(deletion_id) == {"cancelled": 15}
        assert {op.state for op in deletion.operations} == {"cancelled"}
        bar = deletion_bar(deletion)
        assert (bar.good, bar.bad, bar.muted) == (0, 0, 15)
        c = metrics.counters(HOUR, utcnow())
        assert (c.items_bad, c.ops_with_errors, c.failure_rate) == (0, 0, None)
    page_words = {"cancelled": "Cancelled upstream", "not_sent": "Not sent"}
    assert {code: word(code, "item") for code in page_words} == page_words
