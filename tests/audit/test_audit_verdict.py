"""The chain verdict on /audit: cached, extended incrementally, re-walked, or walked in the back."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.audit.helpers import add_events, tamper
from wesog_dash.audit.verdict import keeper

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


def verdict(client: FlaskClient) -> str:
    """The verdict fragment's HTML."""
    return client.get("/audit/verdict").get_data(as_text=True)


def test_new_events_extend_the_cached_verdict(
    app: Flask, client: FlaskClient, viewer: None
) -> None:
    assert "2 events, up to event\n    #2 at" in verdict(client)
    checked = keeper(app).full_at
    ids = add_events(app, 3)
    assert f"5 events, up to event\n    #{ids[-1]} at" in verdict(client)
    assert keeper(app).full_at == checked  # only the new events were walked


@pytest.mark.parametrize(
    "sql",
    ["UPDATE audit_events SET reason = 'x' WHERE id = ?", "DELETE FROM audit_events WHERE id = ?"],
)
def test_a_changed_or_deleted_newest_event_shows_at_once(
    app: Flask, client: FlaskClient, viewer: None, sql: str
) -> None:
    ids = add_events(app, 3)
    assert "Chain intact" in verdict(client)
    tamper(app, sql, ids[-1])
    assert f"Chain broken at event #{ids[-1]}:" in verdict(client)


def test_an_old_event_changed_after_a_check_shows_on_the_next_whole_walk(
    app: Flask, client: FlaskClient, viewer: None
) -> None:
    ids = add_events(app, 5)
    assert "Chain intact" in verdict(client)
    tamper(app, "UPDATE audit_events SET actor = 'x' WHERE id = ?", ids[1])
    assert "Chain intact" in verdict(client)  # cached until AUDIT_VERIFY_MAX_AGE passes
    app.config["AUDIT_VERIFY_MAX_AGE"] = 0
    assert f"Chain broken at event #{ids[1]}:" in verdict(client)


class TestLongWalks:
    """Beyond AUDIT_VERIFY_SYNC_LIMIT the walk runs in the background and the verdict polls."""

    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"AUDIT_VERIFY_SYNC_LIMIT": 0}

    def test_the_verdict_polls_until_the_background_walk_ends(
        self, app: Flask, client: FlaskClient, viewer: None
    ) -> None:
        first = verdict(client)  # starts the walk and answers at once
        assert "Checking the hash chain" in first and 'hx-swap="outerHTML"' in first
        assert 'hx-get="/audit/verdict"' in first
        keeper(app).wait(timeout=10)
        settled = verdict(client)
        assert "Chain intact:</strong> 2 events" in settled
        assert "hx-get" not in settled and "hx-trigger" not in settled
