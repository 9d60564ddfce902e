"""Nothing polling is said everywhere: the banner on every page, /readyz 503 with what to
start, the heartbeat's age in /metrics, one alert per silence; a clock step fakes nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.alerts.test_alerts import Receiver
from tests.conftest import AuthActions, wait_for
from wesog_dash import heartbeat
from wesog_dash.config import Settings
from wesog_dash.extensions import db
from wesog_dash.models import Alert, utcnow
from wesog_dash.poller import Poller

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

BANNER = "Nothing is polling the Wesog API"
START = "flask --app app wesog poll"
STALE_AFTER = 1.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local HTTP receiver for the webhook."""
    server = Receiver()
    yield server
    server.server.shutdown()


@pytest.fixture
def app_overrides(receiver: Receiver) -> dict[str, Any]:
    """Web processes that never poll (as under gunicorn), a short silence, alerts, metrics."""
    return {
        "WESOG_POLLER": "external",
        "WESOG_POLLER_STALE_AFTER": STALE_AFTER,
        "WESOG_ALERT_URL": receiver.url,
        "WESOG_METRICS": True,
    }


def page(client: FlaskClient, url: str = "/ops") -> str:
    """A full page's HTML."""
    answer = client.get(url)
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def heartbeat_age(client: FlaskClient) -> float:
    """The heartbeat's age as /metrics exposes it."""
    text = client.get("/metrics").get_data(as_text=True)
    [line] = [x for x in text.splitlines() if x.startswith("wesog_poller_heartbeat_age_seconds")]
    return float(line.split()[-1])


def stale_alerts(app: Flask) -> int:
    """Alerts queued for a silent poller."""
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(Alert).where(Alert.kind == "poller.stale")
        )


def test_a_silent_poller_is_said_everywhere_once_then_forgotten(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller, receiver: Receiver
) -> None:
    auth.login("viewer")
    wait_for(lambda: cycled_and_said_fine(poller, client), timeout=30)
    assert poller.holding
    before = time.monotonic()
    poller.run_once()
    # The age counts from the cycle just finished (measured: a loaded machine is slow).
    assert 0 <= heartbeat_age(client) <= time.monotonic() - before + 0.1

    wait_for(lambda: BANNER in page(client), timeout=15)  # the poller said nothing since
    html = page(client, "/audit")
    assert START in html and "WESOG_POLLER=external" in html
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["status"] == "not ready"
    assert START in ready.get_json()["heartbeat"]
    assert heartbeat_age(client) > STALE_AFTER
    wait_for(lambda: len(receiver.payloads()) == 1, timeout=30)
    [alert] = receiver.payloads()
    assert alert["kind"] == "poller.stale" and START in alert["text"]
    for url in ("/", "/ops", "/audit"):
        page(client, url)
    client.get("/readyz")
    assert stale_alerts(app) == 1  # once per silence

    wait_for(lambda: cycled_and_said_fine(poller, client), timeout=30)  # a poller is back
    assert stale_alerts(app) == 1


def cycled_and_said_fine(poller: Poller, client: FlaskClient) -> bool:
    """A poller cycle, then no banner and /readyz 200 — when both were asked within the
    silence limit of that cycle (a loaded machine may take longer: then ask again)."""
    poller.run_once()
    asked_at = time.monotonic()
    fine = BANNER not in page(client) and client.get("/readyz").status_code == 200
    late = time.monotonic() - asked_at > STALE_AFTER - 0.25  # the beat came just before
    assert fine or late, "a banner while a poller cycles"
    return fine


def test_a_console_whose_poller_never_ran_says_so(
    client: FlaskClient, auth: AuthActions, app: Flask
) -> None:
    auth.login("viewer")
    wait_for(lambda: BANNER in page(client), timeout=15)
    assert "last poller cycle" not in page(client)
    assert "since this process started" in client.get("/readyz").get_json()["heartbeat"]
    wait_for(lambda: stale_alerts(app) == 1)


def test_a_wall_clock_stepped_an_hour_fakes_no_silence_and_hides_none(
    app: Flask, poller: Poller
) -> None:
    poller.run_once()
    with app.app_context():
        assert not heartbeat.read(app).stale
        for step in (timedelta(hours=1), timedelta(hours=-1), timedelta(hours=1)):
            assert poller.lease.beat(now=utcnow() + step)  # the poller's clock jumped
            beat = heartbeat.read(app)
            assert not beat.stale and beat.age is not None and beat.age < STALE_AFTER
        # The clock is an hour ahead and the poller stops: the silence is seen in seconds.
        wait_for(lambda: heartbeat.read(app).stale, timeout=15)


def test_silence_is_three_intervals_and_at_least_the_lease_ttl() -> None:
    assert (
        heartbeat.stale_after(Settings.of({"WESOG_POLL_INTERVAL": 1.0, "WESOG_LEASE_TTL": 10.0}))
        == 10.0
    )
    assert (
        heartbeat.stale_after(Settings.of({"WESOG_POLL_INTERVAL": 5.0, "WESOG_LEASE_TTL": 10.0}))
        == 15.0
    )
    assert heartbeat.stale_after(Settings.of({"WESOG_POLLER_STALE_AFTER": 2.5})) == 2.5
