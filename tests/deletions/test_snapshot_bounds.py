"""The safety net never holds a deletion hostage: the metadata read before a chunk is bounded,
and what it did not read is sent anyway — unless only what can be restored may be deleted."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import AuthActions, cycle_until
from tests.conftest import request_deletion as request
from tests.deletions.test_deletions import FAST, deletion_state, items
from tests.deletions.test_safety_restore import snapshots
from tests.views.test_api_v1 import bearer, token_for
from tests.views.test_deletions import post_delete
from wesog_dash.deletions.sending.keeping import NOT_IN_TIME
from wesog_dash.extensions import db
from wesog_dash.models import DeletionRequest
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer, SandboxSettings

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

IDS = [str(100001 + n) for n in range(40)]
# Every search refused: the metadata can only be read one GET /imgs/{id} at a time.
NO_FORMULA = {"endpoint": "search", "field": "count", "value": None, "status": 422, "count": None}


@pytest.fixture
def dialect() -> str:
    """Only what the reference documents."""
    return "reference"


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling; one chunk; four metadata calls per chunk."""
    return {**FAST, "WESOG_SNAPSHOT_CALLS": 4, "WESOG_SNAPSHOT_SECONDS": 60.0}


@pytest.fixture
def single_reads(sandbox_settings: SandboxSettings) -> None:
    """An API that takes no formula at all; operations run at once."""
    sandbox_settings.item_ms, sandbox_settings.start_ms = 0, 0
    sandbox_settings.malformed = [NO_FORMULA]


@pytest.mark.usefixtures("single_reads")
def test_images_not_read_within_the_calls_are_sent_anyway_and_marked(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(app, IDS, kind="list")
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done")
    stats = sandbox.state.stats
    assert stats["GET /imgs"] + stats["GET /imgs/{image_id}"] == 4, "two probes, two reads"
    kept = snapshots(app, deletion_id)
    assert len(kept) == 40
    assert sum(1 for row in kept if row.data) == 2
    assert {row.problem for row in kept if not row.data} == {NOT_IN_TIME}
    assert {item["outcome"] for item in items(app, deletion_id)} == {"deleted"}


@pytest.mark.usefixtures("single_reads")
def test_restorable_only_holds_back_what_could_not_be_kept(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(app, IDS, kind="list", restorable_only=True)
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done_with_errors")
    outcomes = {item["image_id"]: item for item in items(app, deletion_id)}
    deleted = [i for i, item in outcomes.items() if item["outcome"] == "deleted"]
    held = [item for item in outcomes.values() if item["outcome"] == "not_sent"]
    assert len(deleted) == 2 and len(held) == 38
    assert all(item["op_id"] is None for item in held), "never sent"
    assert all(NOT_IN_TIME in item["message"] for item in held)
    assert sandbox.state.get_image(held[0]["image_id"]) is not None, "still there upstream"
    assert all(sandbox.state.get_image(image_id) is None for image_id in deleted)


@pytest.mark.usefixtures("single_reads")
def test_restorable_only_with_nothing_readable_sends_nothing_and_ends(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    app.config["WESOG_SNAPSHOT_CALLS"] = 2  # the two probes use them up
    deletion_id = request(app, IDS, kind="list", restorable_only=True)
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done_with_errors")
    assert {item["outcome"] for item in items(app, deletion_id)} == {"not_sent"}
    assert sandbox.state.stats["DELETE /imgs"] == 0


def test_a_slow_api_bounds_the_read_by_time(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    app.config.update(WESOG_SNAPSHOT_CALLS=100, WESOG_SNAPSHOT_SECONDS=0.2)
    sandbox.settings.item_ms, sandbox.settings.start_ms = 0, 0
    sandbox.settings.malformed = [NO_FORMULA]
    sandbox.settings.latency_ms = 150  # every answer: at least 0.15 s
    deletion_id = request(app, IDS, kind="list")
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done")
    stats = sandbox.state.stats
    assert stats["GET /imgs"] + stats["GET /imgs/{image_id}"] <= 2, "started within 0.2 s"
    assert sum(1 for row in snapshots(app, deletion_id) if row.problem == NOT_IN_TIME) >= 38


def restorable_only_of(app: Flask) -> list[bool]:
    """The option of every deletion request written so far."""
    with app.app_context():
        query = select(DeletionRequest.restorable_only).order_by(DeletionRequest.id)
        return list(db.session.scalars(query))


def test_the_option_is_asked_on_the_form_the_api_and_the_cli(
    app: Flask, client: FlaskClient, auth: AuthActions, runner: Any
) -> None:
    token = auth.login("operator")
    page = client.get("/deletions/new?image_ids=100001").get_data(as_text=True)
    assert 'name="restorable_only"' in page
    post_delete(client, token, ["100001", "100002"], restorable_only="1")
    api_token = token_for(app, "otto", "operator")
    body = {"image_ids": ["100003", "100004"], "reason": "takedown", "restorable_only": True}
    response = client.post("/api/v1/deletions", json=body, headers=bearer(api_token))
    assert response.status_code == 202, response.json
    args = ["wesog", "delete", "100005", "100006", "--reason", "x", "--restorable-only", "--yes"]
    assert runner.invoke(args=args).exit_code == 0
    assert restorable_only_of(app) == [True, True, True]
    post_delete(client, token, ["100007", "100008"])
    assert restorable_only_of(app)[-1] is False
