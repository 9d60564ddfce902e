"""Cancel, pause and undo fired at a chunk's send ±150 ms, through the web and the API: no
difference between what was answered, what was recorded and what the sandbox received
(tests/deletions/race.py; bench/lifecycle.py --race runs 100 of each)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions
from tests.deletions.race import ACTIONS, CHANNELS, Race, table
from tests.deletions.test_deletions import FAST
from tests.views.test_api_v1 import bearer, token_for
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer, SandboxSettings

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

SHOTS = 10  # of each action through each channel


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Chunks of 4 ids, one operation in flight: one chunk per send."""
    return {**FAST, "WESOG_CHUNK_SIZE": 4, "WESOG_MAX_INFLIGHT_OPS": 1}


def poster(app: Flask, client: FlaskClient, csrf: str, api: dict[str, str]) -> Any:
    """Post an action through the web (its toast) or the API (its answer or problem)."""

    def post(channel: str, path: str) -> tuple[bool, str]:
        if channel == "web":
            headers = {"HX-Request": "true"}
            response = client.post(path, data={"csrf_token": csrf}, headers=headers)
            toast = json.loads(response.headers["HX-Trigger"])["toast"]
            return toast["level"] != "error", toast["message"]
        response = app.test_client().post(f"/api/v1{path}", headers=api)
        body = response.get_json()
        return response.status_code == 200, body.get("answer") or body.get("detail", "")

    return post


@pytest.mark.parametrize(
    "sandbox_settings",
    [SandboxSettings(api_key="test-key-5f3a", images=1000, item_ms=0, start_ms=0, latency_ms=60)],
)
def test_actions_fired_at_the_send_never_disagree_with_what_the_api_received(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    sandbox: SandboxServer,
    poller: Poller,
) -> None:
    csrf = auth.login("operator")
    api = bearer(token_for(app, "otto", "operator"))
    race = Race(app, sandbox, poller, poster(app, client, csrf, api))
    shots = [race.shot(a, c) for a in ACTIONS for c in CHANNELS for _ in range(SHOTS)]
    wrong = [(s.action, s.channel, s.offset_ms, s.answer, s.differences()) for s in shots]
    assert [w for w in wrong if w[-1]] == []
    outcomes = {(action, answered) for action, _, answered, _, _ in table(shots)}
    # The shots landed on both sides of the claim: before it (taken back) and after it.
    assert {("cancel", "taken back"), ("cancel", "in flight"), ("undo", "taken back")} <= outcomes
