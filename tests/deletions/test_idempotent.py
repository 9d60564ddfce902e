"""Actions submitted twice or in parallel give one result: one retry deletion, one restore
operation, one pause; the same answer to every submission (an idempotency key from the form
or the `Idempotency-Key` header), and without a key, retry and restore never repeat either."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import cycle_until
from tests.conftest import request_deletion as request
from tests.deletions.test_deletions import FAST, deletion_state
from tests.views.test_api_v1 import bearer, token_for
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent, DeletionRequest
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer, SandboxSettings

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

QUICK = {"api_key": "test-key-5f3a", "images": 60, "item_ms": 0, "start_ms": 0}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling; chunks of 5 ids, one operation in flight at a time."""
    return {**FAST, "WESOG_CHUNK_SIZE": 5, "WESOG_MAX_INFLIGHT_OPS": 1}


def in_parallel(count: int, call: Callable[[], Any]) -> list[Any]:
    """`call` from `count` threads released together; their answers."""
    start, answers = threading.Barrier(count), [None] * count

    def one(n: int) -> None:
        start.wait()
        answers[n] = call()

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def post(app: Flask, headers: dict[str, str], path: str) -> tuple[int, Any]:
    """One API call from its own client (as parallel clients are); status and JSON body."""
    response = app.test_client().post(path, headers=headers)
    return response.status_code, response.get_json()


def retries_of(app: Flask, parent: int) -> list[int]:
    with app.app_context():
        query = select(DeletionRequest.id).where(DeletionRequest.retry_of_id == parent)
        return list(db.session.scalars(query))


def count_actions(app: Flask, action: str) -> int:
    with app.app_context():
        query = select(func.count()).where(AuditEvent.action == action)
        return db.session.scalar(query) or 0


def failed_parent(app: Flask, sandbox: SandboxServer, poller: Poller) -> int:
    """A finished deletion with failures (then the sandbox stops failing)."""
    parent = request(app, [str(100031 + n) for n in range(5)], kind="list")
    cycle_until(poller, lambda: deletion_state(app, parent).state == "done_with_errors")
    sandbox.settings.fail_rate = 0.0
    return parent


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    """A fresh sandbox that fails half the elements (each test changes its knobs)."""
    return SandboxSettings(**QUICK, fail_rate=0.5)


@pytest.mark.parametrize("keyed", [True, False])
def test_six_parallel_retries_make_one_retry_deletion(
    app: Flask, sandbox: SandboxServer, poller: Poller, keyed: bool
) -> None:
    parent = failed_parent(app, sandbox, poller)
    headers = bearer(token_for(app, "otto", "operator"))
    if keyed:
        headers["Idempotency-Key"] = "retry-form-1"
    answers = in_parallel(6, lambda: post(app, headers, f"/api/v1/deletions/{parent}/retry"))
    [child] = retries_of(app, parent)
    assert [status for status, _ in answers] == [202] * 6
    assert {body["id"] for _, body in answers} == {child}  # every caller is told the one retry
    assert count_actions(app, "deletion.retried") == 1


@pytest.mark.parametrize("keyed", [True, False])
def test_eight_parallel_restores_send_one_restore_operation(
    app: Flask, sandbox: SandboxServer, poller: Poller, keyed: bool
) -> None:
    sandbox.settings.fail_rate = 0.0
    deletion_id = request(app, ["100041", "100042"], kind="list")
    cycle_until(poller, lambda: deletion_state(app, deletion_id).state == "done")
    headers = bearer(token_for(app, "otto", "operator"))
    if keyed:
        headers["Idempotency-Key"] = "restore-form-1"
    path = f"/api/v1/deletions/{deletion_id}/restore"
    answers = in_parallel(8, lambda: post(app, headers, path))
    assert sandbox.state.stats["POST /imgs"] == 1
    assert count_actions(app, "image.restore_requested") == 1
    statuses = sorted(status for status, _ in answers)
    # With a key every caller gets the first answer; without one, the others are told that
    # it is already restored (or being restored): never a second operation.
    assert statuses == ([202] * 8 if keyed else [202] + [409] * 7)


def test_a_form_submitted_twice_pauses_once_and_answers_the_same(
    app: Flask, client: Any, auth: Any, sandbox: SandboxServer, poller: Poller
) -> None:
    sandbox.settings.hold = True
    token = auth.login("operator")
    deletion_id = request(app, [str(100001 + n) for n in range(15)], kind="list")
    poller.run_once()
    form = {"csrf_token": token, "idempotency_key": "drawn-form-7"}
    first = client.post(f"/deletions/{deletion_id}/pause", data=form)
    second = client.post(f"/deletions/{deletion_id}/pause", data=form)
    assert first.status_code == second.status_code == 303
    assert count_actions(app, "deletion.paused") == 1
    page = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
    assert f"Deletion #{deletion_id} paused." in page
    # A refusal is an answer too: the same key is refused the same way, nothing is done.
    resumed = {"csrf_token": token, "idempotency_key": "drawn-form-8"}
    assert client.post(f"/deletions/{deletion_id}/resume", data=resumed).status_code == 303
    assert client.post(f"/deletions/{deletion_id}/resume", data=resumed).status_code == 303
    assert count_actions(app, "deletion.resumed") == 1


def test_a_key_that_cannot_be_one_is_refused_as_a_problem(app: Flask) -> None:
    deletion_id = request(app, ["100001"], undo_seconds=60)
    headers = {**bearer(token_for(app, "otto", "operator")), "Idempotency-Key": "x" * 300}
    status, body = post(app, headers, f"/api/v1/deletions/{deletion_id}/undo")
    assert status == 400 and "idempotency key" in body["detail"]
    assert deletion_state(app, deletion_id).state == "scheduled"


def test_keys_older_than_a_week_are_forgotten_by_prune_snapshots(app: Flask, runner: Any) -> None:
    from datetime import timedelta

    from wesog_dash import deletions
    from wesog_dash.models import IdempotencyKey, utcnow

    with app.app_context():
        assert deletions.once("k-1", "1:pause:1", lambda: {"said": "x"}) == {"said": "x"}
        assert deletions.once("k-1", "1:pause:1", lambda: {"said": "y"}) == {"said": "x"}
        db.session.add(IdempotencyKey(digest="0" * 64, created_at=utcnow() - timedelta(days=8)))
        db.session.commit()
    result = runner.invoke(args=["wesog", "prune-snapshots"])
    assert result.exit_code == 0 and "Forgot 1 idempotency key older than 7 days" in result.output
    with app.app_context():
        assert db.session.query(IdempotencyKey).count() == 1
