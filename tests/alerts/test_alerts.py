"""Alerts against a real local HTTP receiver: once per event, signed, retried, not when clean."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import FAST_POLLING, AuthActions, wait_for
from tests.metrics.helpers import done, store
from wesog_dash import alerts, deletions, operations
from wesog_dash.extensions import db
from wesog_dash.models import Alert, AuditEvent
from wesog_dash.poller import Poller

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

SECRET = "alert-secret-9d2e"


class Receiver:
    """A webhook receiver on loopback: records every POST, answers the queued statuses."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/T0KEN-in-path"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def payloads(self) -> list[dict[str, Any]]:
        """The JSON bodies received."""
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local HTTP receiver for the webhook."""
    server = Receiver()
    yield server
    server.server.shutdown()


@pytest.fixture
def app_overrides(receiver: Receiver) -> dict[str, Any]:
    """Alerts on, pointed at the receiver; quick polling and retries."""
    return {
        **FAST_POLLING,
        "WESOG_ALERT_URL": receiver.url,
        "WESOG_ALERT_SECRET": SECRET,
        "WESOG_ALERT_RETRY_BASE": 0.05,
        "WESOG_LOST_AFTER": 0.2,  # an operation the API never knew is lost at once
    }


def cycles(poller: Poller, condition: Any, timeout: float = 15.0) -> Any:
    """Run poller cycles until `condition` holds."""
    return wait_for(lambda: (poller.run_once(), condition())[1], timeout=timeout)


def settle(app: Flask, poller: Poller, ids: list[str], strict: bool) -> int:
    """Request a deletion and run the poller until it ended; returns its id."""
    with app.app_context():
        deletion_id = deletions.request_deletion(
            ids,
            deletions.DeletionOptions("alert test", strict=strict),
            deletions.Requester("alice"),
        ).id

    def ended() -> bool:
        with app.app_context():
            return deletions.get_deletion(deletion_id).state in ("done", "done_with_errors")

    cycles(poller, ended)
    return deletion_id


def sent_events(app: Flask) -> list[AuditEvent]:
    """The audit trail's alert.sent events."""
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.action == "alert.sent")
        return list(db.session.scalars(query))


def test_a_deletion_with_failures_is_alerted_once_and_signed(
    app: Flask, poller: Poller, receiver: Receiver
) -> None:
    deletion_id = settle(app, poller, ["100001", "no-such-image"], strict=True)
    cycles(poller, lambda: receiver.requests)
    for _ in range(5):  # more cycles, and the alerting thread's own rounds
        poller.run_once()
    with app.app_context():
        alerts.run_cycle()
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    signature = headers[alerts.SIGNATURE_HEADER]
    stamp, _, mac = signature.removeprefix("t=").partition(",v1=")
    expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(mac, expected)  # the time is signed with the body
    assert alerts.verify(signature, body, SECRET)
    assert abs(int(stamp) - time.time()) < 300
    payload = json.loads(body)
    assert payload["kind"] == "deletion.done_with_errors"
    assert payload["text"].startswith(f"Deletion #{deletion_id} by alice ended with failures")
    assert payload["details"]["deletion_id"] == deletion_id
    # The alerting thread records the delivery after the receiver answered: wait for it.
    sent = wait_for(lambda: sent_events(app), timeout=10)
    assert len(sent) == 1 and sent[0].details["to"] == "http://127.0.0.1"
    assert "T0KEN" not in json.dumps(sent[0].details)  # the URL's path is never recorded
    assert len(receiver.requests) == 1  # still once


def test_a_failed_delivery_is_retried_until_it_is_accepted(app: Flask, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    with app.app_context():
        alert_id = alerts.queue_test("admin-user").id
        wait_for(lambda: alerts.deliver_due() == 1, timeout=10)
        alert = db.session.get(Alert, alert_id)
        assert (alert.state, alert.attempts, alert.last_error) == ("sent", 3, None)
    bodies = {body for _, body in receiver.requests}
    assert len(receiver.requests) == 3 and len(bodies) == 1  # the same alert, three tries


def test_a_clean_run_sends_nothing(app: Flask, poller: Poller, receiver: Receiver) -> None:
    settle(app, poller, ["100002", "100003"], strict=False)
    for _ in range(5):
        poller.run_once()
    with app.app_context():
        alerts.run_cycle()
        assert db.session.scalars(select(Alert)).all() == []
    assert receiver.requests == []


def test_a_high_failure_rate_and_a_lost_operation_are_alerted_once(
    app: Flask, poller: Poller, receiver: Receiver
) -> None:
    with app.app_context():
        store(done(1, "upd", good=6, bad=4, idle=10, run=10))  # 40 % of 10 items failed
        operations.track("987654321", actor="alice")  # upstream never heard of it
    cycles(poller, lambda: len(receiver.requests) >= 2)
    with app.app_context():
        alerts.run_cycle()
    kinds = sorted(p["kind"] for p in receiver.payloads())
    assert kinds == ["failure_rate", "operation.lost"]
    rate = next(p for p in receiver.payloads() if p["kind"] == "failure_rate")
    assert rate["text"].startswith("40% of items failed in the last hour")


def test_admins_send_a_test_alert_from_the_overview(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller, receiver: Receiver
) -> None:
    token = auth.login("admin")
    page = client.get("/").text
    assert "Send a test alert" in page and "http://127.0.0.1" in page
    assert SECRET not in page and "T0KEN" not in page
    response = client.post("/alerts/test", data={"csrf_token": token})
    assert response.status_code == 303
    cycles(poller, lambda: receiver.requests)
    assert receiver.payloads()[0]["text"] == "Test alert from wesog-dash, sent by admin-user"
    assert 'class="badge alert-sent"' in client.get("/").text


def test_without_a_url_nothing_is_queued(
    client: FlaskClient, auth: AuthActions, app: Flask
) -> None:
    app.config["WESOG_ALERT_URL"] = None
    token = auth.login("admin")
    response = client.post("/alerts/test", data={"csrf_token": token}, follow_redirects=True)
    assert "Alerts are off" in response.text
    with app.app_context():
        assert alerts.scan() == 0 and db.session.scalars(select(Alert)).all() == []


def test_a_stale_operation_is_queued_once(app: Flask, receiver: Receiver) -> None:
    from tests.metrics.helpers import snapshot
    from wesog_dash.models import Operation

    with app.app_context():
        store(snapshot(5, num_total=9, num_good=1, is_started=True))
        db.session.get(Operation, 5).state = "stale"  # as derive_state says after no progress
        db.session.commit()
        assert alerts.scan() == 1
        assert alerts.scan() == 0
        alert = db.session.scalars(select(Alert)).one()
        assert (alert.kind, alert.text) == (
            "operation.stale",
            "Operation #5 makes no progress (stale)",
        )


def test_a_replayed_or_altered_delivery_is_refused_by_the_receiver_check() -> None:
    body = b'{"text": "x"}'
    now = int(time.time())
    assert alerts.verify(alerts.sign(body, SECRET, now), body, SECRET)
    assert not alerts.verify(alerts.sign(body, SECRET, now - 3600), body, SECRET)  # replayed
    assert not alerts.verify(alerts.sign(body, SECRET, now), body + b" ", SECRET)  # altered
    assert not alerts.verify(alerts.sign(body, "other", now), body, SECRET)
    forged = alerts.sign(body, SECRET, now - 3600).replace(f"t={now - 3600}", f"t={now}")
    assert not alerts.verify(forged, body, SECRET)  # a fresh time on an old signature
