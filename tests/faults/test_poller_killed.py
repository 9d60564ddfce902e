"""The only poller SIGKILLed with deletions under way and no stand-by: every page says that
nothing polls (and what to start); a poller started again resumes every deletion — 0 lost,
0 sent twice, also when it was killed after claiming a chunk and before its DELETE left."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import AuthActions, request_deletion, wait_for
from tests.poller.test_failover import HOSTS, Pollers
from wesog_dash.deletions.sending import dispatcher
from wesog_dash.extensions import db
from wesog_dash.models import FINAL_DELETION_STATES, DeletionItem, DeletionRequest, Lease
from wesog_dash.sandbox import SandboxServer, SandboxSettings

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

BANNER = "Nothing is polling the Wesog API"
DELETIONS = 10
BATCH, SINGLE = "DELETE /imgs", "DELETE /imgs/{image_id}"


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    """Operations slow enough (2 × 150 ms each, one at a time) to be killed in the middle."""
    return SandboxSettings(api_key="killed-key-8e0c", images=60, item_ms=150, start_ms=20)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """The web side never polls (as under gunicorn); a second of silence is news."""
    return {"WESOG_POLLER": "external", "WESOG_POLLER_STALE_AFTER": 1.0}


@pytest.fixture
def pollers(app: Flask, sandbox: SandboxServer, tmp_path: Path) -> Iterator[Pollers]:
    """`flask --app app wesog poll` processes; killed after the test."""
    started = Pollers(app, sandbox, tmp_path)
    try:
        yield started
    finally:
        started.close()


def states(app: Flask) -> list[str]:
    """Every deletion's state."""
    with app.app_context():
        found = list(db.session.scalars(select(DeletionRequest.state)))
        db.session.rollback()
        return found


def beating(app: Flask) -> bool:
    """A poller has finished a cycle."""
    with app.app_context():
        found = db.session.scalar(select(Lease.cycle_at))
        db.session.rollback()
        return found is not None


def test_the_only_poller_killed_then_started_again(
    app: Flask, client: FlaskClient, auth: AuthActions, sandbox: SandboxServer, pollers: Pollers
) -> None:
    auth.login("viewer")
    first = pollers.start("poller-a", HOSTS[0])
    wait_for(lambda: beating(app), timeout=60, interval=0.1)
    images = [record.image_id for record in sandbox.state.ordered_images()]
    for n in range(DELETIONS):
        request_deletion(app, images[2 * n : 2 * n + 2])
    wait_for(lambda: "submitted" in states(app), timeout=60, interval=0.05)
    first.send_signal(signal.SIGKILL)  # no stand-by, no goodbye
    first.wait(30)
    assert any(state not in FINAL_DELETION_STATES for state in states(app))
    wait_for(lambda: BANNER in client.get("/ops").get_data(as_text=True), timeout=30)
    assert client.get("/readyz").status_code == 503

    pollers.start("poller-b", HOSTS[1])  # started again: it resumes everything
    wait_for(lambda: all(s in FINAL_DELETION_STATES for s in states(app)), timeout=120)
    assert all(state in ("done", "rejected") for state in states(app))  # 0 lost
    stats = sandbox.state.stats
    assert stats[BATCH] + stats[SINGLE] <= DELETIONS  # 0 sent twice
    with app.app_context():  # 0 false: "deleted" exactly where the API has no image left
        outcomes = {i.image_id: i.outcome for i in db.session.scalars(select(DeletionItem))}
        db.session.rollback()
    for image_id, outcome in outcomes.items():
        gone = sandbox.state.get_image(image_id) is None
        assert outcome == ("deleted" if gone else "failed"), (image_id, outcome)
    # A deletion whose claim died before its DELETE left (killed between the two) is sent
    # once by the next poller; one whose DELETE may have left is settled from the evidence.
    assert stats[BATCH] + stats[SINGLE] == states(app).count("done")
    wait_for(lambda: BANNER not in client.get("/ops").get_data(as_text=True), timeout=30)
    assert client.get("/readyz").status_code == 200


def claimed_unsent(app: Flask) -> list[int]:
    """Deletions whose chunk is claimed and has provably not left yet."""
    with app.app_context():
        found = list(
            db.session.scalars(
                select(DeletionRequest.id).where(
                    DeletionRequest.state == "sending",
                    DeletionRequest.message == dispatcher.PREPARING,
                )
            )
        )
        db.session.rollback()
        return found


def test_the_only_poller_killed_between_claiming_a_chunk_and_its_delete(
    app: Flask, client: FlaskClient, auth: AuthActions, sandbox: SandboxServer, pollers: Pollers
) -> None:
    auth.login("viewer")
    first = pollers.start("poller-a", HOSTS[0])
    wait_for(lambda: beating(app), timeout=60, interval=0.1)
    images = [record.image_id for record in sandbox.state.ordered_images()][:6]
    sandbox.settings.latency_ms = 5000  # the metadata read before the DELETE takes 5 s
    deletion_id = request_deletion(app, images)
    wait_for(lambda: claimed_unsent(app) == [deletion_id], timeout=60, interval=0.02)
    first.send_signal(signal.SIGKILL)  # the chunk is claimed; its DELETE has not left
    first.wait(30)
    sandbox.settings.latency_ms = 0
    wait_for(lambda: BANNER in client.get("/ops").get_data(as_text=True), timeout=30)
    assert sandbox.state.stats[BATCH] == 0  # the API never saw it

    pollers.start("poller-b", HOSTS[1])  # started again: it sends the chunk, once
    wait_for(lambda: states(app) == ["done"], timeout=120)
    assert sandbox.state.stats[BATCH] + sandbox.state.stats[SINGLE] == 1  # 0 sent twice
    with app.app_context():
        query = select(DeletionItem.image_id, DeletionItem.outcome, DeletionItem.inferred)
        found = {tuple(row) for row in db.session.execute(query)}
        db.session.rollback()
    assert found == {
        (image_id, "deleted", False) for image_id in images
    }  # 0 lost, each from the operation's own answer
    assert all(sandbox.state.get_image(image_id) is None for image_id in images)
    wait_for(lambda: BANNER not in client.get("/ops").get_data(as_text=True), timeout=30)
