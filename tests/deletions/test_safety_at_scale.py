"""The safety net inside scale's sending core: a deletion of a stored selection gets the
undo window and failure threshold too, and each chunk it sends keeps its images first."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.conftest import cycle_until, deletes_received
from tests.conftest import request_deletion as request
from tests.deletions.test_deletions import FAST, deletion_state, items
from tests.deletions.test_safety_restore import snapshots
from wesog_dash import deletions
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

IDS = [str(100010 + n) for n in range(7)]  # two chunks of at most 5


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling; chunks of 5 ids, one operation in flight at a time."""
    return {**FAST, "WESOG_CHUNK_SIZE": 5, "WESOG_MAX_INFLIGHT_OPS": 1}


def selected(app: Flask, **options: Any) -> int:
    """A deletion of IDS through a stored selection (as the big-deletion page asks for it)."""
    with app.app_context():
        selection_id = deletions.store_list(IDS, actor="alice").id
    return request(app, [], selection_id=selection_id, **options)


def test_a_selection_gets_the_undo_window_and_its_threshold(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = selected(app, undo_seconds=30, stop_ratio=0.5, stop_min_items=3)
    deletion = deletion_state(app, deletion_id)
    assert (deletion.state, deletion.stop_ratio, deletion.stop_min_items) == ("scheduled", 0.5, 3)
    poller.run_once()
    with app.app_context():
        deletions.undo(deletion_id, "olga")
    poller.run_once()
    assert deletes_received(sandbox) == 0
    assert {item["outcome"] for item in items(app, deletion_id)} == {"not_sent"}


def test_each_chunk_of_a_selection_keeps_its_images_before_it_goes(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = selected(app)
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done")
    assert deletes_received(sandbox) == 2  # WESOG_CHUNK_SIZE 5: two operations, one after the other
    assert sorted(snap.image_id for snap in snapshots(app, deletion_id)) == IDS
    assert all(sandbox.state.get_image(image_id) is None for image_id in IDS)
