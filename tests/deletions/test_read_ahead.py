"""Reading ahead: the next chunk's metadata is read while this chunk is stored and sent, and
what was read ahead is kept, never read twice."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask, g

from tests.conftest import cycle_until, deletes_received, wait_for
from tests.conftest import request_deletion as request
from tests.deletions.test_deletions import FAST, deletion_state, items
from tests.deletions.test_lifecycle import sending_in_background
from wesog_dash.deletions.sending.keeping import ReadAhead
from wesog_dash.extensions import db
from wesog_dash.models import ImageSnapshot
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer, SandboxSettings
from wesog_dash.upstream import GUARD
from wesog_dash.wesog import WesogUnavailable

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

KNOBS = {"api_key": "test-key-5f3a", "images": 60, "item_ms": 0, "start_ms": 0}
IDS = [str(100001 + n) for n in range(15)]  # three chunks of five


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Chunks of 5 ids, room for all of them in flight."""
    return {**FAST, "WESOG_CHUNK_SIZE": 5, "WESOG_MAX_INFLIGHT_OPS": 10}


def searches(sandbox: SandboxServer) -> int:
    """Metadata searches (`GET /imgs`) the sandbox received."""
    return int(sandbox.state.stats["GET /imgs"])


def kept(app: Flask) -> set[str]:
    """The images whose metadata was kept for a restore."""
    with app.app_context():
        rows = db.session.scalars(
            ImageSnapshot.__table__.select().with_only_columns(ImageSnapshot.image_id)
        )
        return set(rows)


@pytest.mark.parametrize(
    "sandbox_settings", [SandboxSettings(**KNOBS, late_answer=1, late_answer_ms=3000)]
)
def test_the_next_chunk_is_read_while_this_one_is_on_its_way(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(app, IDS, kind="list", send_inline=False)
    sender = sending_in_background(app, deletion_id)
    # The first DELETE's answer is 3 s late; the second chunk's search does not wait for it.
    # Probe + chunk 1, then chunk 2's search, while chunk 1's DELETE is held.
    wait_for(lambda: searches(sandbox) >= 3 and deletes_received(sandbox) == 1, timeout=2.5)
    first_chunk = [item for item in items(app, deletion_id) if item["image_id"] in IDS[:5]]
    assert {item["outcome"] for item in first_chunk} == {"sending"}, "answered already"
    sender.join(timeout=20)
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done")
    assert kept(app) == set(IDS)


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(**KNOBS)])
def test_what_was_read_ahead_is_kept_and_never_read_again(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(app, IDS, kind="list", send_inline=False)
    sending_in_background(app, deletion_id).join(timeout=20)
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done")
    assert kept(app) == set(IDS)
    assert {item["outcome"] for item in items(app, deletion_id)} == {"deleted"}
    # The first chunk: a probe of two ids (is an `∩` list understood?), then its other three;
    # the next two chunks: one search each, read ahead. Read twice, it would be five.
    assert searches(sandbox) == 4


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(**KNOBS)])
def test_the_read_ahead_carries_the_senders_fence(app: Flask, sandbox: SandboxServer) -> None:
    checked: list[str] = []

    def lease_lost() -> None:
        checked.append(threading.current_thread().name)
        raise WesogUnavailable("this poller lost its lease to another one; it stopped")

    with app.app_context():
        setattr(g, GUARD, lease_lost)  # as `poller.fence.fenced` sets it
        with ReadAhead() as ahead:
            ahead.start(IDS[:5])
            assert ahead.take(IDS[:5]) == {}  # nothing read: the fence said no
    assert checked and all(name.startswith("wesog-read-ahead") for name in checked)
    assert searches(sandbox) == 0
