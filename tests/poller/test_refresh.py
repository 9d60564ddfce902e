"""Poller v2 against the real sandbox: refresh from the list, discovery, the request budget,
the global pause on 429, and bulk deletions kept to a few operations in flight."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import FAST_POLLING, AuthActions, wait_for
from wesog_dash import deletions, operations
from wesog_dash.deletions.outcomes.outcomes import WAITING
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent, DeletionRequest, Operation
from wesog_dash.poller import Poller, pause_shown
from wesog_dash.sandbox import SandboxServer
from wesog_dash.upstream import upstream

# The list's shape differs between the dialects (paged with X-Total-Count, or the bare array).
pytestmark = [pytest.mark.dialect, pytest.mark.both_dialects]  # dialect: tests/engines.py

FAST = {
    **FAST_POLLING,
    "WESOG_POLL_MAX_BACKOFF": 5.0,
    "WESOG_DISCOVER_GRACE": 0.0,
    "WESOG_DISCOVER_INTERVAL": 0.1,
}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling, discovery without a grace period."""
    return dict(FAST)


def api_calls(sandbox: SandboxServer) -> int:
    """Every Wesog API request the sandbox received (its own /_sandbox routes excluded)."""
    return sum(n for key, n in sandbox.state.stats.items() if key.split(" ")[1] != "/thumbs")


def cycle_until(poller: Poller, condition: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Run poller cycles until `condition` holds."""
    return wait_for(lambda: (poller.run_once(), condition())[1], timeout=timeout)


def row(app: Flask, op_id: int) -> Operation | None:
    """A detached copy of an operation row, or None."""
    with app.app_context():
        found = db.session.get(Operation, op_id)
        if found is not None:
            db.session.expunge(found)
        return found


def test_unfinished_operations_are_refreshed_from_the_list_and_a_missing_one_by_id(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    client = upstream(app).client()
    sandbox.settings.start_ms = 60_000  # queued throughout: refreshed, never finished
    op_ids = [client.delete_image(str(100001 + n)).op_id for n in range(4)]
    with app.app_context():
        for op_id in [*op_ids, 999]:  # 999: unknown upstream, so the list never shows it
            operations.track(op_id, actor="alice")
    sandbox.state.reset_stats()
    poller.run_once()
    stats = sandbox.state.stats
    assert stats["GET /ops"] == 1, "one page of the list refreshes every listed operation"
    assert stats["GET /ops/{op_id}"] == 1, "only the operation the list lacks is read by id"
    assert all(row(app, op_id).raw is not None for op_id in op_ids)  # type: ignore[union-attr]
    missing = row(app, 999)
    assert missing is not None and missing.state == "missing"  # the API answered 404


def test_the_list_is_read_at_most_once_per_interval(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    app.config["WESOG_POLL_INTERVAL"] = 0.5
    app.config["WESOG_QUEUED_POLL_INTERVAL"] = 0.05
    app.config["WESOG_DISCOVER_INTERVAL"] = 5.0
    client = upstream(app).client()
    sandbox.settings.start_ms = 60_000
    op_ids = [client.delete_image(str(100001 + n)).op_id for n in range(3)]
    with app.app_context():
        for op_id in op_ids:
            operations.track(op_id, actor="alice")
    poller.run_once()
    sandbox.state.reset_stats()
    started = time.monotonic()
    while time.monotonic() - started < 1.0:
        poller.run_once()  # many cycles, due operations every 50 ms
        time.sleep(0.02)
    assert sandbox.state.stats["GET /ops"] <= 3 and sandbox.state.stats["GET /ops/{op_id}"] == 0


def test_an_operation_created_elsewhere_is_discovered_without_a_click(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    poller.run_once()  # the first look sets where discovery starts
    sandbox.settings.start_ms = 1000  # seen while queued, then followed to its end
    op_id = upstream(app).client().delete_images(["100001", "100002"]).op_id
    assert op_id is not None
    found = cycle_until(poller, lambda: row(app, op_id))
    assert found.origin == "discovered"
    cycle_until(poller, lambda: (r := row(app, op_id)) is not None and r.is_finished)
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert "operation.discovered" in actions and actions[-1] == "operation.ended"


@pytest.mark.parametrize("app_overrides", [{**FAST, "WESOG_DISCOVER": False}])
def test_discovery_can_be_turned_off(app: Flask, sandbox: SandboxServer, poller: Poller) -> None:
    poller.run_once()
    op_id = upstream(app).client().delete_image("100001").op_id
    for _ in range(10):
        poller.run_once()
        time.sleep(0.02)
    assert op_id is not None and row(app, op_id) is None
    assert sandbox.state.stats["GET /ops"] == 0


@pytest.fixture
def running(app: Flask, poller: Poller) -> Iterator[Poller]:
    """The poller cycling in a thread, as in production, until the test ends."""
    stop = threading.Event()
    thread = threading.Thread(target=poller.run_forever, args=(stop,), daemon=True)
    thread.start()
    yield poller
    stop.set()
    poller.wake_event.set()
    thread.join(10)


@pytest.mark.parametrize(
    "app_overrides",
    [{**FAST, "WESOG_MAX_CALLS_PER_SECOND": 5, "WESOG_LIST_PAGE_SIZE": 1}],  # per id is cheaper
)
def test_the_request_budget_is_never_exceeded(
    app: Flask, sandbox: SandboxServer, running: Poller
) -> None:
    sandbox.settings.start_ms = 60_000
    with app.app_context():
        deletions.request_deletion(
            [str(100001 + n) for n in range(10)],
            deletions.DeletionOptions("budget"),
            deletions.Requester("alice"),
        )
        for op_id in range(900, 930):  # thirty operations to poll every 50 ms, by id
            operations.track(op_id, actor="alice")
    counts, windows = [], []
    for _ in range(4):  # four consecutive windows of about a second, counted at the sandbox
        before, started = api_calls(sandbox), time.monotonic()
        time.sleep(0.98)
        counts.append(api_calls(sandbox) - before)
        windows.append(time.monotonic() - started)  # a busy machine oversleeps: measured
    # At most 5 calls a second, plus one that may start right at the window's edge.
    assert all(n <= 5 * max(1.0, w) + 1 for n, w in zip(counts, windows, strict=True)), (
        counts,
        windows,
    )
    assert max(counts) <= 5 or max(windows) > 1.0, (counts, windows)
    assert sum(counts) >= 12, f"the budget is used, not idle: {counts}"


PAUSE = 4  # seconds of Retry-After: room for cycles on a loaded machine


def test_a_429_pauses_every_call_for_its_retry_after(
    app: Flask, sandbox: SandboxServer, poller: Poller, client: Any, auth: AuthActions
) -> None:
    token = auth.login("operator")
    upstream(app).client().delete_image("100001")  # something to poll and to discover
    sandbox.settings.rate_429, sandbox.settings.retry_after = 1.0, PAUSE
    before_429 = time.monotonic()  # the pause ends PAUSE s after the 429, so after this + PAUSE
    poller.run_once()
    sandbox.settings.rate_429 = 0.0
    sandbox.state.reset_stats()
    with app.app_context():
        assert pause_shown() is not None, "the pause is written where pages can read it"
    form = {"csrf_token": token, "image_ids": ["100002"], "reason": "paused"}
    response = client.post("/deletions", data=form)  # sent inside the request, normally
    deletion_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        deletion = deletions.get_deletion(deletion_id)
        assert deletion is not None and deletion.state == "pending"
        assert "asked us to slow down until" in (deletion.message or "")
    while time.monotonic() - before_429 < PAUSE - 0.5:  # cycles inside the pause, measured
        poller.run_once()
        time.sleep(0.05)
    assert api_calls(sandbox) == 0, "nothing at all is sent during the pause"
    cycle_until(poller, lambda: deletions_state(app, deletion_id) == "done")
    assert api_calls(sandbox) > 0


def deletions_state(app: Flask, deletion_id: int) -> str:
    """A deletion request's state."""
    with app.app_context():
        found = db.session.get(DeletionRequest, deletion_id)
        assert found is not None
        return found.state


@pytest.mark.parametrize(
    "app_overrides", [{**FAST, "WESOG_CHUNK_SIZE": 5, "WESOG_MAX_INFLIGHT_OPS": 2}]
)
def test_a_bulk_deletion_keeps_a_few_operations_in_flight_and_records_every_outcome(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    sandbox.settings.hold = True  # upstream's queue does not move: nothing ends
    ids = [str(100001 + n) for n in range(28)] + ["no-such-image"]
    with app.app_context():
        deletion_id = deletions.request_deletion(
            ids, deletions.DeletionOptions("bulk", strict=True), deletions.Requester("alice")
        ).id
    for _ in range(5):
        poller.run_once()
    assert sandbox.state.stats["DELETE /imgs"] == 2, "two operations in flight, the rest wait"
    with app.app_context():
        waiting = deletions.get_deletion(deletion_id)
        assert waiting is not None and waiting.message == WAITING
    sandbox.settings.hold = False

    def final() -> dict[str, int] | None:
        poller.run_once()
        with app.app_context():
            state = deletions.get_deletion(deletion_id).state  # type: ignore[union-attr]
            return deletions.outcome_counts(deletion_id) if state == "done_with_errors" else None

    assert wait_for(final, timeout=20) == {"deleted": 28, "not_found": 1}
    assert sandbox.state.stats["DELETE /imgs"] == 6
    with app.app_context():
        ops = db.session.scalar(select(func.count()).where(Operation.deletion_id == deletion_id))
        assert ops == 6


@pytest.mark.parametrize(
    "app_overrides", [{**FAST, "WESOG_LIST_PAGE_SIZE": 10, "WESOG_DISCOVER_GRACE": 0.5}]
)
def test_many_pages_of_new_operations_are_all_discovered(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    """More new operations than a page holds, young at first: every one is found in the end."""
    sandbox.settings.hold = True  # they stay queued: unfinished, as in bench/scale.py
    poller.run_once()  # the first look: what appears from now on is new
    created = sandbox.state.bulk_ops(55, "del", "queued", 1)
    cycle_until(poller, lambda: stored_operations(app) == len(created), timeout=20)


@pytest.mark.parametrize("app_overrides", [{**FAST, "WESOG_LIST_PAGE_SIZE": 10}])
def test_a_walk_cut_short_leaves_the_older_new_operations_to_the_next_walk(
    app: Flask,
    sandbox: SandboxServer,
    poller: Poller,
    monkeypatch: pytest.MonkeyPatch,
    dialect: str,
) -> None:
    """Walks stopped by their page cap (or the call budget) before they met an operation seen
    before: the next walks still find every new operation, however low the cap stays. (The
    reference's bare array holds them all in one call: no cap can cut it.)"""
    sandbox.settings.hold = True
    poller.run_once()  # the first look: what appears from now on is new
    created = sandbox.state.bulk_ops(55, "del", "queued", 1)
    monkeypatch.setattr(poller.refresher, "max_pages", lambda: 2)  # pages take long, say
    cycle_until(poller, lambda: stored_operations(app) >= 20)
    if dialect == "sandbox":
        assert stored_operations(app) < len(created)  # the cap cut the paged walk: 20 of 55
    # Each walk goes on where the last one stopped, not again from the newest page.
    cycle_until(poller, lambda: stored_operations(app) == len(created))
    later = sandbox.state.bulk_ops(25, "del", "queued", 1)  # and arrivals after it are found
    cycle_until(poller, lambda: stored_operations(app) == len(created) + len(later))


@pytest.mark.parametrize("app_overrides", [{**FAST, "WESOG_LIST_PAGE_SIZE": 10}])
def test_a_first_look_records_what_its_first_call_shows(
    app: Flask, sandbox: SandboxServer, poller: Poller, dialect: str
) -> None:
    """A console started on a busy tenant records the first call's operations: the newest page
    from an API that pages, all of them from the reference's bare array (one call either
    way). Older pages are left for "Import from API": a first start is no flood of calls."""
    sandbox.settings.hold = True
    sandbox.state.bulk_ops(55, "del", "queued", 1)
    for _ in range(5):
        poller.run_once()
    assert stored_operations(app) == (55 if dialect == "reference" else 10)


def stored_operations(app: Flask) -> int:
    """How many operations the console has a row for."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Operation)) or 0
