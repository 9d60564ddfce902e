"""The deletion outbox against the real sandbox: written first, sent, rejected, unknown, settled."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import FAST_POLLING, cycle_until
from tests.conftest import request_deletion as request
from wesog_dash import deletions
from wesog_dash.deletions import DeletionInputError
from wesog_dash.deletions.outcomes import reconciler
from wesog_dash.deletions.sending import dispatcher
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent, DeletionItem, DeletionRequest, Operation
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer, SandboxSettings

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

FAST = {**FAST_POLLING, "WESOG_POLL_MAX_BACKOFF": 1.0, "WESOG_RECONCILE_GRACE": 0.0}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling and no reconcile grace, so cycles follow each other fast."""
    return dict(FAST)


def deletion_state(app: Flask, deletion_id: int) -> DeletionRequest:
    """A fresh, detached copy of the request's columns."""
    with app.app_context():
        row = db.session.get(DeletionRequest, deletion_id)
        assert row is not None
        db.session.expunge(row)
        return row


def items(app: Flask, deletion_id: int) -> list[dict[str, Any]]:
    """The request's items as plain dicts."""
    with app.app_context():
        return [
            {"image_id": i.image_id, "outcome": i.outcome, "message": i.message, "op_id": i.op_id}
            for i in deletions.items_of(deletion_id)
        ]


def actions(app: Flask, deletion_id: int) -> list[str]:
    """The audit actions recorded for a deletion, in order."""
    with app.app_context():
        query = select(AuditEvent.action).where(AuditEvent.deletion_id == deletion_id)
        return list(db.session.scalars(query.order_by(AuditEvent.id)))


def row_count(app: Flask, model: type) -> int:
    """How many rows a table holds."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_single_delete_is_sent_inside_the_request_and_submitted(
    app: Flask, sandbox: SandboxServer
) -> None:
    deletion_id = request(app, ["100001"])
    deletion = deletion_state(app, deletion_id)
    assert deletion.state == "submitted"
    assert deletion.submitted_at is not None and deletion.attempts == 1
    [item] = items(app, deletion_id)
    assert item["op_id"] is not None and item["outcome"] == "pending"
    with app.app_context():
        op = db.session.get(Operation, item["op_id"])
        assert op is not None and op.origin == "dashboard" and op.deletion_id == deletion_id
    assert actions(app, deletion_id) == ["deletion.requested", "deletion.submitted"]
    assert sandbox.state.stats["DELETE /imgs/{image_id}"] == 1
    assert sandbox.state.stats["GET /ops/{op_id}"] == 0


def test_single_delete_runs_to_done_with_the_item_deleted(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(app, ["100002"])
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done")
    assert items(app, deletion_id)[0]["outcome"] == "deleted"
    assert actions(app, deletion_id)[-1] == "deletion.ended"
    assert sandbox.state.get_image("100002") is None


def test_request_is_stored_before_the_call_and_sent_once_the_api_recovers(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    sandbox.settings.rate_5xx = 1.0
    deletion_id = request(app, ["100003"])
    deletion = deletion_state(app, deletion_id)
    assert deletion.state == "pending" and deletion.attempts == 1
    assert deletion.message and "503" in deletion.message
    assert deletion.next_attempt_at is not None
    assert items(app, deletion_id)[0]["outcome"] == "pending"
    assert sandbox.state.get_image("100003") is not None

    sandbox.settings.rate_5xx = 0.0
    # Sent, and possibly already refreshed to its end in the same cycle.
    sent = ("submitted", "done")
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state in sent)
    assert deletion_state(app, deletion_id).message is None
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done")


@pytest.mark.parametrize("app_overrides", [{**FAST, "WESOG_API_URL": "http://127.0.0.1:9"}])
def test_unreachable_api_leaves_the_request_pending_with_its_message(app: Flask) -> None:
    deletion_id = request(app, ["100004"])
    deletion = deletion_state(app, deletion_id)
    assert deletion.state == "pending"
    assert deletion.message and "could not be reached" in deletion.message
    assert actions(app, deletion_id) == ["deletion.requested"]


@pytest.mark.parametrize("auth_status", [401, 403])
@pytest.mark.parametrize("app_overrides", [{**FAST, "WESOG_API_KEY": "wrong-key"}])
def test_refused_api_key_rejects_the_request_with_its_message(
    app: Flask, sandbox: SandboxServer, auth_status: int
) -> None:
    sandbox.settings.auth_status = auth_status
    deletion_id = request(app, ["100005"])
    deletion = deletion_state(app, deletion_id)
    assert deletion.state == "rejected" and deletion.finished_at is not None
    assert deletion.message and "API key" in deletion.message
    assert "wrong-key" not in deletion.message
    [item] = items(app, deletion_id)
    assert item["outcome"] == "failed" and item["message"] == deletion.message
    assert actions(app, deletion_id) == ["deletion.requested", "deletion.rejected"]


@pytest.fixture
def misrouted_app(app: Flask, sandbox: SandboxServer) -> Flask:
    """The sandbox has no 422 switch: a base URL ending in /ops routes `DELETE /imgs` to
    `DELETE /ops/{op_id}` with op_id "imgs", which the sandbox answers with a genuine 422."""
    from wesog_dash.config import settings
    from wesog_dash.upstream import Upstream

    app.extensions["wesog_upstream"].close()
    config = settings(app).model_copy(update={"api_url": sandbox.url + "/ops"})
    app.extensions["wesog_upstream"] = Upstream(config)
    return app


def test_validation_error_422_rejects_the_request(
    misrouted_app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(misrouted_app, ["100006", "100007"])
    cycle_until(poller, lambda: deletion_state(misrouted_app, deletion_id).state == "rejected")
    deletion = deletion_state(misrouted_app, deletion_id)
    assert deletion.message and "valid integer" in deletion.message
    assert {i["outcome"] for i in items(misrouted_app, deletion_id)} == {"failed"}


@pytest.mark.parametrize("app_overrides", [{**FAST, "WESOG_SYNC_SEND_TIMEOUT": 0.3}])
def test_timeout_after_sending_becomes_unknown_then_is_reconciled_and_done(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    sandbox.settings.latency_ms = 1500  # the op is created, the answer comes too late
    deletion_id = request(app, ["100008"])
    deletion = deletion_state(app, deletion_id)
    assert deletion.state == "unknown"
    assert items(app, deletion_id)[0]["outcome"] == "unknown"

    sandbox.settings.latency_ms = 0
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state != "unknown")
    assert deletion_state(app, deletion_id).state in ("submitted", "done")
    assert items(app, deletion_id)[0]["op_id"] is not None
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done")
    assert sandbox.state.stats["DELETE /imgs/{image_id}"] == 1  # never re-sent
    assert actions(app, deletion_id) == [
        "deletion.requested",
        "deletion.unknown",
        "deletion.submitted",
        "deletion.ended",
    ]


@pytest.mark.parametrize(
    ("ids", "reason", "options"),
    [
        (["100010"], "", {}),
        (["100010"], "   \n ", {}),
        (["100010"], "x" * 2001, {}),
        ([], "reason", {}),
        (["a/b"], "reason", {}),
        (["x" * 257], "reason", {}),
        (["bad\x07id"], "reason", {}),
        (["ok", "bad\nid"], "reason", {}),
        (["\ud800"], "reason", {}),
        ([str(n) for n in range(100_001)], "reason", {}),
        (["100010"], "reason", {"ticket": "t" * 129}),
        (["100010"], "reason", {"kind": "everything"}),
    ],
)
def test_bad_input_is_refused_before_anything_is_written_or_sent(
    app: Flask, sandbox: SandboxServer, ids: list[str], reason: str, options: dict[str, Any]
) -> None:
    with pytest.raises(DeletionInputError) as refused:
        request(app, ids, reason, **options)
    assert refused.value.message
    for model in (DeletionRequest, DeletionItem, AuditEvent):
        assert row_count(app, model) == 0
    assert sum(sandbox.state.stats.values()) == 0


def test_duplicate_ids_are_removed_keeping_order_and_hashed(app: Flask) -> None:
    import hashlib

    deletion_id = request(app, ["100012", "100011", "100012"], wait=True)
    assert [i["image_id"] for i in items(app, deletion_id)] == ["100012", "100011"]
    deletion = deletion_state(app, deletion_id)
    assert deletion.item_count == 2
    assert deletion.ids_sha256 == hashlib.sha256(b"100012\n100011").hexdigest()


def test_several_ids_wait_for_the_dispatcher_then_go_as_one_batch(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(app, ["100013", "100014", "100015"], kind="list")
    assert deletion_state(app, deletion_id).state == "pending"
    assert sandbox.state.stats["DELETE /imgs"] == 0
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done")
    assert sandbox.state.stats["DELETE /imgs"] == 1
    assert {i["outcome"] for i in items(app, deletion_id)} == {"deleted"}


def test_urgent_strict_and_wait_options_are_stored_and_sent(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(
        app,
        ["100016"],
        wait=True,
        urgent=True,
        strict=True,
        ticket="OPS-12",
        kind="query",
        query="d>2020-01-01",
    )
    deletion = deletion_state(app, deletion_id)
    assert (deletion.do_wait, deletion.do_urgent, deletion.do_strict) == (True, True, True)
    assert deletion.ticket == "OPS-12" and deletion.selection_query == "d>2020-01-01"
    assert deletion.state == "pending"  # wait=true is never sent inside the web request
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done")
    op_id = items(app, deletion_id)[0]["op_id"]
    with app.app_context():
        op = db.session.get(Operation, op_id)
        assert op is not None and (op.do_wait, op.do_urgent, op.do_strict) == (True, True, True)


def test_strict_delete_of_a_missing_id_fails_the_item_as_not_found(
    app: Flask, poller: Poller
) -> None:
    deletion_id = request(app, ["no-such-image"], strict=True)
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done_with_errors")
    [item] = items(app, deletion_id)
    assert item["outcome"] == "not_found" and item["message"] == "image not found"


def test_relaxed_delete_of_a_missing_id_reads_not_found_never_deleted(
    app: Flask, poller: Poller
) -> None:
    # The relaxed API ignores an unknown id; the metadata read before sending knew it.
    deletion_id = request(app, ["no-such-image"])
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done_with_errors")
    [item] = items(app, deletion_id)
    assert item["outcome"] == "not_found" and item["message"].startswith("not found: no such")


def test_a_batch_with_ids_that_never_existed_settles_them_not_found(
    app: Flask, poller: Poller
) -> None:
    deletion_id = request(app, ["100001", "bogus", "999999999"], kind="list")
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done_with_errors")
    outcomes = {item["image_id"]: item["outcome"] for item in items(app, deletion_id)}
    assert outcomes == {"100001": "deleted", "bogus": "not_found", "999999999": "not_found"}


def test_batch_with_failures_marks_each_failed_item_with_its_message(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    sandbox.settings.fail_rate = 0.5
    ids = [str(100020 + n) for n in range(10)]
    deletion_id = request(app, ids)
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done_with_errors")
    outcomes = items(app, deletion_id)
    failed = [i for i in outcomes if i["outcome"] == "failed"]
    assert failed and all(i["message"] == "simulated failure" for i in failed)
    with app.app_context():
        op = db.session.get(Operation, outcomes[0]["op_id"])
        assert op is not None and op.num_bad == len(failed)
    for item in outcomes:
        still_there = sandbox.state.get_image(item["image_id"]) is not None
        assert still_there == (item["outcome"] == "failed")


@pytest.mark.parametrize(
    "sandbox_settings",
    [SandboxSettings(api_key="test-key-5f3a", images=5, item_ms=0, start_ms=0)],
)
def test_more_than_a_thousand_ids_go_in_chunks_of_one_operation_each(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    ids = [f"img-{n}" for n in range(1001)]  # none of them exists: "not found", never deleted
    deletion_id = request(app, ids, kind="list")
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done_with_errors")
    with app.app_context():
        assert deletions.outcome_counts(deletion_id) == {"not_found": 1001}
    assert sandbox.state.stats["DELETE /imgs"] == 2
    op_ids = [i["op_id"] for i in items(app, deletion_id)]
    assert len(set(op_ids)) == 2 and op_ids.count(op_ids[0]) == 1000
    assert actions(app, deletion_id).count("deletion.submitted") == 2


def abandon_mid_send(app: Flask, deletion_id: int) -> None:
    """As if the process died between claiming the request and hearing back from the API."""
    from datetime import timedelta

    from wesog_dash.deletions import items as item_rows
    from wesog_dash.deletions.sending import pacing
    from wesog_dash.models import utcnow

    with app.app_context():
        assert dispatcher.claim(deletion_id, timeout=1.0)
        chunk = [item_id for item_id, _ in item_rows.unsent_chunk(deletion_id, 1000)]
        assert pacing.claim_chunk(deletion_id, chunk, utcnow() - timedelta(seconds=1))


def test_abandoned_send_without_an_operation_is_reconciled_as_rejected(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    deletion_id = request(app, ["100031", "100032"])
    abandon_mid_send(app, deletion_id)
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "rejected")
    deletion = deletion_state(app, deletion_id)
    assert deletion.message == reconciler.NOT_SENT
    assert {i["outcome"] for i in items(app, deletion_id)} == {"failed"}
    with app.app_context():
        assert all(item.inferred for item in deletions.items_of(deletion_id))
    assert sandbox.state.stats["DELETE /imgs"] == 0  # never sent, never re-sent
    assert actions(app, deletion_id) == [
        "deletion.requested",
        "deletion.unknown",
        "deletion.rejected",
    ]


def test_abandoned_send_whose_images_are_gone_is_reconciled_as_done(
    app: Flask, sandbox: SandboxServer, poller: Poller
) -> None:
    from wesog_dash.upstream import upstream

    deletion_id = request(app, ["100033", "100034"])
    abandon_mid_send(app, deletion_id)
    # Someone else deletes them (with other options, so it is not mistaken for ours).
    upstream(app).client().delete_images(["100033", "100034"], wait=True, urgent=True)
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done")
    assert deletion_state(app, deletion_id).message == reconciler.SETTLED
    assert {i["outcome"] for i in items(app, deletion_id)} == {"deleted"}
    with app.app_context():  # gone, but by an operation not known to be ours: inferred
        assert all(item.inferred for item in deletions.items_of(deletion_id))


def test_pending_work_lists_due_pending_and_unknown_requests(app: Flask) -> None:
    pending_id = request(app, ["100035", "100036"])
    with app.app_context():
        work = deletions.pending_work()
    assert work.pending == [pending_id] and work.unknown == []
