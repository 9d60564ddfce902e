"""`flask wesog pause|resume|cancel|retry ID` against the real sandbox and the database."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from tests.conftest import FAST_POLLING
from tests.conftest import request_deletion as request
from tests.deletions.test_deletions import deletion_state, items
from tests.views.test_deletions import settle
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer, SandboxSettings


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    """A sandbox that processes elements at once."""
    return SandboxSettings(api_key="test-key-5f3a", images=60, item_ms=0, start_ms=0)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling."""
    return dict(FAST_POLLING)


def wesog(runner: Any, *args: str) -> Any:
    """Run `flask wesog …`."""
    return runner.invoke(args=["wesog", *args])


def test_pause_resume_and_cancel_with_their_refusals(
    app: Flask, runner: Any, sandbox: SandboxServer
) -> None:
    deletion_id = request(app, ["100001", "100002"], kind="list", undo_seconds=300)
    paused = wesog(runner, "pause", str(deletion_id), "--json")
    assert paused.exit_code == 0, paused.output
    assert paused.stderr.strip() == f"Deletion #{deletion_id} paused."
    assert json.loads(paused.stdout)["state"] == "paused"
    again = wesog(runner, "pause", str(deletion_id))  # a second pause: the same answer
    assert again.exit_code == 0 and f"Deletion #{deletion_id} is paused." in again.output
    resumed = wesog(runner, "resume", str(deletion_id))
    assert resumed.exit_code == 0 and f"Deletion #{deletion_id} resumed." in resumed.output
    cancelled = wesog(runner, "cancel", str(deletion_id))
    assert cancelled.exit_code == 0 and "2 unsent images dropped" in cancelled.output
    assert deletion_state(app, deletion_id).state == "cancelled"
    finished = wesog(runner, "cancel", str(deletion_id))  # a second cancel: nothing more
    assert finished.exit_code == 0 and "already cancelled" in finished.output
    assert wesog(runner, "pause", "999").exit_code == 4
    with app.app_context():
        events = db.session.query(AuditEvent).filter_by(deletion_id=deletion_id).all()
        done = [(e.action, e.actor) for e in events if e.action != "deletion.requested"]
    assert [a for a, _ in done] == [
        "deletion.paused",
        "deletion.resumed",
        "deletion.cancelled",
        "deletion.ended",
    ]
    assert all(actor.startswith("cli:") for _, actor in done)
    assert sandbox.state.stats["DELETE /imgs"] == 0


@pytest.mark.parametrize(
    "sandbox_settings",
    [SandboxSettings(api_key="test-key-5f3a", images=60, item_ms=0, start_ms=0, fail_rate=1.0)],
)
# A poller "runs elsewhere" (external): `--watch` runs one in the command, as `watch` does.
@pytest.mark.parametrize("app_overrides", [{**FAST_POLLING, "WESOG_POLLER": "external"}])
def test_retry_sends_only_the_failed_ids_and_can_watch(
    app: Flask, runner: Any, sandbox: SandboxServer, poller: Poller
) -> None:
    parent = request(app, ["100011", "100012"], kind="list")
    assert settle(app, poller, parent) == "done_with_errors"
    sandbox.settings.fail_rate = 0.0
    nothing = wesog(runner, "retry", str(parent), "--image-id", "100099")
    assert nothing.exit_code == 1 and "no failed image to retry" in nothing.output
    result = wesog(runner, "retry", str(parent), "--json", "--watch")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    child = json.loads(lines[0])
    assert child["retry_of_id"] == parent and child["actor"].startswith("cli:")
    assert [i["image_id"] for i in items(app, child["id"])] == ["100011", "100012"]
    assert json.loads(lines[-1])["state"] == "done"
    assert sandbox.state.get_image("100011") is None


@pytest.mark.parametrize("app_overrides", [{"WESOG_READ_ONLY": True}])
def test_read_only_refuses_resume_and_retry_but_not_pause(app: Flask, runner: Any) -> None:
    deletion_id = request(app, ["100021"], undo_seconds=300)
    for action in ("resume", "retry"):
        refused = wesog(runner, action, str(deletion_id))
        assert refused.exit_code == 1 and "read-only" in refused.output
    assert wesog(runner, "pause", str(deletion_id)).exit_code == 0
