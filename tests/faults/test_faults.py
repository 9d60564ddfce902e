"""One test per fault, against the sandbox's fault knobs: every deletion ends in a state the
API's real state confirms, none is lost, none is sent twice."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions, wait_for
from tests.faults.conftest import Harness
from wesog_dash import accounts, deletions
from wesog_dash.accounts import tokens
from wesog_dash.extensions import db
from wesog_dash.models import Operation
from wesog_dash.operations import record_snapshot
from wesog_dash.upstream import upstream

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

HTMX = {"HX-Request": "true"}


def test_reset_before_the_operation_is_created(
    harness: Harness, app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    harness.knobs(reset_before_create=1)
    deletion_id = harness.delete(["100001"])
    assert harness.state(deletion_id) == "unknown"
    harness.settle()
    [item] = harness.items(deletion_id)
    assert item["outcome"] == "failed" and item["inferred"]  # not deleted, offered for retry
    assert harness.state(deletion_id) == "rejected" and harness.present("100001")
    harness.verdict("reset before the operation is created")
    # Every page that shows the outcome says it is inferred.
    auth.login("viewer")
    page = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
    assert 'class="badge inferred"' in page and "refused by the Wesog API" not in page
    assert "not carried out, inferred" in page
    card = client.get(f"/deletions/{deletion_id}/card", headers=HTMX).get_data(as_text=True)
    assert "not carried out, inferred" in card
    history = client.get("/images/100001/history").get_data(as_text=True)
    assert 'class="badge inferred"' in history and "Outcome for this image (inferred)" in history
    with app.app_context():
        user = accounts.find_user("viewer-user")
        assert user is not None
        token = tokens.issue_token(user, actor="test")
    body = client.get(
        f"/api/v1/deletions/{deletion_id}", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert body["items"][0]["inferred"] is True and body["items"][0]["outcome"] == "failed"


def test_reset_after_the_operation_is_created(harness: Harness) -> None:
    harness.knobs(reset_after_create=1)
    deletion_id = harness.delete(["100002"])
    assert harness.state(deletion_id) == "unknown"
    harness.settle()
    [item] = harness.items(deletion_id)
    assert item["outcome"] == "deleted" and not item["inferred"]  # certain link
    assert item["op_id"] is not None
    harness.verdict("reset after the operation is created")


def test_late_answer(harness: Harness) -> None:
    harness.knobs(late_answer=1, late_answer_ms=1500)  # the send timeout is 0.5 s
    deletion_id = harness.delete(["100003"], strict=True)
    assert harness.state(deletion_id) == "unknown"
    harness.settle()
    assert harness.state(deletion_id) == "done"
    assert not harness.items(deletion_id)[0]["inferred"]
    harness.verdict("late answer")


@pytest.mark.parametrize("op_id", ["1e30", str(2**64), "1e400"])
def test_malformed_op_id_in_the_delete_answer(
    harness: Harness, client: FlaskClient, auth: AuthActions, op_id: str
) -> None:
    token = auth.login("operator")
    harness.knobs(malformed=[{"endpoint": "write", "field": "op_id", "raw": op_id}])
    data = {"csrf_token": token, "image_ids": "100004", "reason": "malformed answer"}
    answer = client.post("/deletions", data=data)
    assert answer.status_code == 303  # never a 500: the request is kept, in doubt
    deletion_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    harness.ids.append(deletion_id)
    assert harness.state(deletion_id) == "unknown"
    page = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
    assert "outcome unknown" in page
    harness.settle()
    assert harness.state(deletion_id) == "done"
    shown = "2^64" if op_id == str(2**64) else op_id
    harness.verdict(f"malformed DELETE answer (op_id {shown})")


def page_text(client: FlaskClient, op_id: int) -> str:
    """The operation's page, as text (it must answer 200)."""
    page = client.get(f"/ops/{op_id}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_wrong_typed_operation_fields_are_an_upstream_error(
    harness: Harness, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("viewer")
    harness.sandbox.settings.start_ms = 400
    deletion_id = harness.delete(["100005"])
    op_id = harness.items(deletion_id)[0]["op_id"]
    # Whichever way the poller reads it (by id, or in the list), the operation comes back
    # with a wrong-typed field.
    harness.knobs(
        malformed=[
            {"endpoint": "op", "field": "num_good", "value": "x", "count": 2},
            {"endpoint": "ops_list", "field": "*.num_good", "value": "x", "count": 2},
        ]
    )
    failed = "The last poll failed: unreadable"
    wait_for(lambda: (harness.poller.run_once(), failed in page_text(client, op_id))[1])
    assert harness.state(deletion_id) == "submitted"  # no outcome from an unreadable answer
    harness.settle()
    harness.verdict("operation with wrong-typed fields")


def test_op_ids_reused_after_a_restart(
    harness: Harness, app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    harness.knobs(hold=True)  # the first operation never starts
    first = harness.delete(["100006"])
    first_op = harness.items(first)[0]["op_id"]
    harness.sandbox.state.restart(next_op_id=first_op)  # new ops count from there again
    harness.knobs(hold=False)
    second = harness.delete(["100007"])
    assert harness.items(second)[0]["op_id"] == first_op  # the API reused the id
    harness.settle()
    with app.app_context():
        current = db.session.get(Operation, first_op)
        assert current is not None and current.deletion_id == second  # never re-tied
        retired = db.session.get(Operation, harness.items(first)[0]["op_id"])
        assert retired is not None and retired.upstream_op_id == first_op
        assert retired.deletion_id == first and retired.state == "lost"
    assert harness.items(first)[0]["outcome"] == "failed"  # never ran: still there
    assert harness.items(second)[0]["outcome"] == "deleted"
    harness.verdict("op ids reused after a restart")
    auth.login("viewer")  # both operations stay visible, apart
    retired_key = harness.items(first)[0]["op_id"]
    page = client.get(f"/ops/{retired_key}").get_data(as_text=True)
    assert f"Operation #{first_op}" in page and "reused" in page
    assert client.get(f"/ops/{first_op}").status_code == 200
    assert client.get("/ops/-99999999999999999999").status_code == 404


def test_operations_forgotten_become_lost(harness: Harness, app: Flask) -> None:
    harness.sandbox.settings.item_ms = 300
    batch = harness.delete(["100010", "100011", "100012", "100013"])
    harness.poller.run_once()  # sends it
    [op_id] = {item["op_id"] for item in harness.items(batch)}
    wait_for(lambda: (harness.sandbox.state.get_op(op_id) or {}).get("num_good", 0) >= 2)
    harness.sandbox.state.restart(next_op_id=1000)  # forgotten half-way
    harness.settle()
    with app.app_context():
        row = db.session.get(Operation, op_id)
        assert row is not None and row.state == "lost"
    outcomes = [(item["outcome"], item["inferred"]) for item in harness.items(batch)]
    assert outcomes[:2] == [("deleted", True)] * 2
    assert ("failed", True) in outcomes  # the rest is still there: not deleted
    assert "operation.lost" in _actions(app, batch)  # the loss leaves a record
    harness.verdict("operations forgotten (404 → lost)")


def test_two_concurrent_reconciles(harness: Harness, app: Flask) -> None:
    harness.knobs(reset_after_create=1)
    deletion_id = harness.delete(["100020"])
    wait_for(lambda: upstream(app).client().list_operations()[0].is_finished)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def reconcile() -> None:
        with app.app_context():
            barrier.wait()
            try:
                deletions.reconcile(deletion_id)
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=reconcile) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    harness.settle()
    audit = _actions(app, deletion_id)
    assert audit.count("deletion.submitted") == 1  # linked once
    harness.verdict("two concurrent reconciles")


def test_two_deletions_claiming_one_operation_at_once(app: Flask, harness: Harness) -> None:
    ours = [harness.delete([image_id], wait=True) for image_id in ("100021", "100022")]
    op = upstream(app).client().delete_image("100023", wait=True)
    harness.sandbox.state.reset_stats()  # another client's call is not one of our sends
    outcome: dict[int, Any] = {}
    barrier = threading.Barrier(2)

    def claim(deletion_id: int) -> None:
        with app.app_context():
            barrier.wait()
            row = record_snapshot(op, deletion_id=deletion_id)
            outcome[deletion_id] = row.deletion_id
            db.session.commit()

    threads = [threading.Thread(target=claim, args=(i,)) for i in ours]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(outcome) == 2 and len(set(outcome.values())) == 1  # one owner, no error
    with app.app_context():
        stored = db.session.get(Operation, op.op_id)
        assert stored is not None and stored.deletion_id in ours
    harness.settle()
    harness.verdict("two claims of one operation")


def test_scenario_a_reset_before_and_lost_answer_of_a_same_shaped_delete(
    harness: Harness,
) -> None:
    harness.sandbox.settings.start_ms = 300
    harness.knobs(reset_before_create=1)
    never_sent = harness.delete(["100007"])  # connection reset before the op was created
    harness.knobs(reset_after_create=1)
    answer_lost = harness.delete(["100003"])  # op created, answer lost
    harness.settle()
    assert harness.items(never_sent)[0]["outcome"] == "failed"  # never "done, deleted"
    assert harness.present("100007") and not harness.present("100003")
    assert harness.items(answer_lost)[0]["outcome"] == "deleted"
    harness.verdict("(a) reset before + lost answer, same shape")


def test_scenario_b_another_clients_same_shaped_operation(harness: Harness, app: Flask) -> None:
    other = upstream(app).client().delete_image("missing-id", strict=True, wait=True)
    assert other.num_bad == 1  # another client's strict delete of a missing id: failed
    harness.sandbox.state.reset_stats()  # another client's call is not one of our sends
    harness.knobs(late_answer=1, late_answer_ms=1500)
    deletion_id = harness.delete(["100005"], strict=True)
    harness.settle()
    [item] = harness.items(deletion_id)
    assert item["outcome"] == "deleted" and item["op_id"] != other.op_id  # not "not found"
    with app.app_context():
        foreign = db.session.get(Operation, other.op_id)
        assert foreign is None or foreign.deletion_id is None  # never tied to us
    harness.verdict("(b) another client's same-shaped operation")


def _actions(app: Flask, deletion_id: int) -> list[str]:
    from sqlalchemy import select

    from wesog_dash.models import AuditEvent

    with app.app_context():
        query = select(AuditEvent.action).where(AuditEvent.deletion_id == deletion_id)
        return list(db.session.scalars(query.order_by(AuditEvent.id)))
