"""Words that match the state: an undone deletion's history, "Sent" of a deletion sent in
chunks, a cancelled operation told as cancelled (not as failures)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.audit.test_audit_history import summary
from tests.conftest import AuthActions
from tests.conftest import request_deletion as request
from tests.deletions.test_deletions import FAST
from wesog_dash import deletions
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer, SandboxSettings

HELD = SandboxSettings(api_key="test-key-5f3a", images=60, item_ms=0, start_ms=0, hold=True)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Chunks of 5 ids, one operation in flight at a time."""
    return {**FAST, "WESOG_CHUNK_SIZE": 5, "WESOG_MAX_INFLIGHT_OPS": 1}


def test_an_undone_deletion_reads_undone_by_its_user_in_the_image_history(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    deletion_id = request(app, ["100007"], undo_seconds=60)
    with app.app_context():
        deletions.undo(deletion_id, "olga")
    auth.login("viewer")
    said = summary(client, "100007")
    assert said == "Undone by olga before anything was sent."
    assert "still in progress" not in said


@pytest.mark.parametrize("sandbox_settings", [HELD])
def test_a_deletion_sent_in_chunks_says_when_and_how_many_chunks_went(
    app: Flask, client: FlaskClient, auth: AuthActions, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(app, [str(100001 + n) for n in range(15)], kind="list")
    poller.run_once()  # the first chunk goes; the others wait for room
    with app.app_context():
        sends = deletions.sends(deletions.get_deletion(deletion_id))  # type: ignore[arg-type]
        assert (sends.chunks_sent, sends.chunks_total) == (1, 3)
        assert sends.first_at is not None and sends.first_at == sends.last_at
    auth.login("viewer")
    page = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
    assert "1 of 3 chunks sent" in page
    assert "Not sent yet" not in page and "not yet" not in page.split("chunks sent", 1)[1][:200]


@pytest.mark.parametrize("sandbox_settings", [HELD])
def test_a_cancelled_operation_is_told_as_cancelled_not_as_failures(
    app: Flask, client: FlaskClient, auth: AuthActions, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(app, [str(100021 + n) for n in range(10)], kind="list")
    poller.run_once()
    with app.app_context():
        deletions.cancel(deletion_id, "olga")
    auth.login("viewer")
    page = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
    assert "5 cancelled before it ran" in page and "0 good · 5 bad" not in page
    assert 'class="muted pct-100"' in page
    assert "Cancelled upstream" in page and "Not sent" in page
