"""A deletion's page leads with one bar across all its operations, the chunks sent, and its
operations counted by state; past ten operations the per-operation rows fold away."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import FAST_POLLING, AuthActions, request_deletion, wait_for
from wesog_dash import deletions
from wesog_dash.poller import Poller

HTMX = {"HX-Request": "true"}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Chunks of two ids: five ids go out as three operations."""
    return {**FAST_POLLING, "WESOG_CHUNK_SIZE": 2, "WESOG_MAX_CALLS_PER_SECOND": 100}


def ids(count: int) -> list[str]:
    """Ids of seeded sandbox images."""
    return [str(100001 + n) for n in range(count)]


def page_of(client: FlaskClient, deletion_id: int) -> str:
    """The deletion's page."""
    response = client.get(f"/deletions/{deletion_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def overall_bar(html: str) -> dict[str, str]:
    """The attributes of the overall progress bar."""
    found = re.search(
        r'<div class="bar large"[^>]*aria-label="Deletion #\d+ overall progress"'
        r'[^>]*aria-valuemax="(\d+)" aria-valuenow="(\d+)"',
        html,
        re.S,
    )
    assert found, "no overall bar"
    return {"max": found.group(1), "now": found.group(2)}


def test_a_chunked_deletion_shows_one_bar_and_the_chunks_sent(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller
) -> None:
    auth.login("viewer")
    deletion_id = request_deletion(app, ids(5))
    before = page_of(client, deletion_id)
    assert overall_bar(before) == {"max": "5", "now": "0"}
    assert 'data-chunks-sent="0" data-chunks-total="3"' in before
    assert "0 of 3 chunks sent" in before

    def ended() -> bool:
        poller.run_once()
        with app.app_context():
            row = deletions.get_deletion(deletion_id)
            return row is not None and not row.is_live

    wait_for(ended, timeout=30)
    after = client.get(f"/deletions/{deletion_id}/live", headers=HTMX).get_data(as_text=True)
    assert overall_bar(after) == {"max": "5", "now": "5"}
    assert "3 of 3 chunks sent" in after and "5 of 5 images done" in after
    assert "first " in after and "last " in after  # when the first and last chunk went out
    assert '<span class="op-state-count">3 finished</span>' in after
    assert "ops-fold" not in after  # three rows: nothing folded


def test_past_ten_operations_the_rows_fold_away(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller
) -> None:
    auth.login("viewer")
    deletion_id = request_deletion(app, ids(23))  # twelve chunks

    def all_sent() -> bool:
        poller.run_once()
        with app.app_context():
            row = deletions.get_deletion(deletion_id)
            return row is not None and len(row.operations) == 12

    wait_for(all_sent, timeout=60)
    html = page_of(client, deletion_id)
    assert '<details class="ops-fold"' in html and "Each of the 12 operations" in html
    assert "12 of 12 chunks sent" in html
