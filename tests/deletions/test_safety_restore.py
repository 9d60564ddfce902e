"""Keeping what is deleted and bringing it back; the completion report; pruning snapshots."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from tests.conftest import cycle_until
from tests.conftest import request_deletion as request
from tests.deletions.test_deletions import FAST, deletion_state
from wesog_dash import deletions
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent, ImageSnapshot, Operation
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer, SandboxSettings

SET_BY_THE_API = {"height", "width", "n_faces"}  # computed upstream, not sent back

# Integration tests that depend on the API's shape run in both dialects of the sandbox.
pytestmark = [pytest.mark.dialect, pytest.mark.both_dialects]  # dialect: tests/engines.py


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling; small chunks."""
    return {**FAST, "WESOG_CHUNK_SIZE": 5}


@pytest.fixture
def quick(sandbox_settings: SandboxSettings) -> None:
    """Operations run at once (the knobs are live: the order of the fixtures does not matter)."""
    sandbox_settings.item_ms, sandbox_settings.start_ms = 0, 0


def upstream_image(sandbox: SandboxServer, image_id: str) -> dict[str, Any] | None:
    """`GET /imgs/{id}` as the API answers it (None: 404)."""
    response = requests.get(
        f"{sandbox.url}/imgs/{image_id}", headers={"API-Key": sandbox.settings.api_key}, timeout=5
    )
    return None if response.status_code == 404 else response.json()


def snapshots(app: Flask, deletion_id: int) -> list[ImageSnapshot]:
    """The snapshots a deletion kept, detached."""
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(ImageSnapshot)
                .where(ImageSnapshot.deletion_id == deletion_id)
                .order_by(ImageSnapshot.id)
            )
        )
        for row in rows:
            db.session.expunge(row)
        return rows


@pytest.mark.usefixtures("quick")
def test_delete_then_restore_brings_back_the_same_image(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    ids = ["100041", "100042", "missing-7"]
    originals = {i: upstream_image(sandbox, i) for i in ids}
    deletion_id = request(app, ids, kind="list")
    # "missing-7" never existed: not found (nothing to delete), so not every image was deleted.
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done_with_errors")
    assert all(upstream_image(sandbox, i) is None for i in ids)
    kept = {s.image_id: s for s in snapshots(app, deletion_id)}
    assert kept["100041"].data == originals["100041"]
    assert kept["missing-7"].data is None and "not found" in kept["missing-7"].problem
    with app.app_context():
        chosen = deletions.restorable(deletion_id)
        assert sorted(s.image_id for s in chosen) == ["100041", "100042"]
        row = deletions.restore([s.id for s in chosen], "ana")
        assert row.method == "add"
        op_id = row.op_id
    assert sandbox.state.stats["POST /imgs"] == 1
    cycle_until(poller, lambda: _op(app, op_id).is_finished)
    for image_id in ("100041", "100042"):
        back = upstream_image(sandbox, image_id)
        assert back is not None
        assert {k: v for k, v in back.items() if k not in SET_BY_THE_API} == {
            k: v for k, v in originals[image_id].items() if k not in SET_BY_THE_API
        }
    with app.app_context():
        assert deletions.restorable(deletion_id) == []  # once is enough
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "image.restore_requested")
        ).one()
        assert (event.actor, event.op_id, event.details["images"]) == ("ana", op_id, 2)


def _op(app: Flask, op_id: int) -> Operation:
    with app.app_context():
        row = db.session.get(Operation, op_id)
        assert row is not None
        db.session.expunge(row)
        return row


@pytest.mark.usefixtures("quick")
def test_an_image_that_cannot_be_read_is_marked_before_sending(
    app: Flask, sandbox: SandboxServer
) -> None:
    with app.app_context():
        found = deletions.unrestorable(["100051", "gone-1", "odd id, with comma"])
    assert set(found) == {"gone-1", "odd id, with comma"}
    assert all("not found" in why for why in found.values())


@pytest.mark.parametrize(
    "sandbox_settings",
    [SandboxSettings(api_key="test-key-5f3a", images=60, item_ms=0, start_ms=0, fail_rate=0.5)],
)
def test_the_report_lists_every_item(app: Flask, sandbox: SandboxServer, poller: Poller) -> None:
    ids = [str(100001 + n) for n in range(12)] + ["=HYPERLINK(1)"]
    deletion_id = request(app, ids, kind="list")
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done_with_errors")
    with app.app_context():
        text = "".join(deletions.report_chunks(deletion_id))
        failed = deletions.failed_id_text(deletion_id).splitlines()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["image_id"] for r in rows] == [*ids[:-1], "'=HYPERLINK(1)"]
    assert set(rows[0]) == {"image_id", "title", "outcome", "message", "operation", "time"}
    assert rows[0]["title"] and rows[0]["operation"] and rows[0]["time"]
    assert [r["image_id"] for r in rows if r["outcome"] == "failed"] == failed


def test_old_snapshots_are_pruned(app: Flask, sandbox: SandboxServer, runner: Any) -> None:
    deletion_id = request(app, ["100055"])
    with app.app_context():
        (snapshot,) = db.session.scalars(select(ImageSnapshot)).all()
        snapshot.taken_at -= timedelta(days=91)
        db.session.commit()
    result = runner.invoke(args=["wesog", "prune-snapshots"])
    assert result.exit_code == 0 and "Pruned 1 snapshot older than 90 days" in result.output
    assert snapshots(app, deletion_id) == []
