"""The overview: counters and charts of a period, and the realtime chart's cheap polling."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions
from tests.metrics.helpers import done, snapshot, store

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


def test_the_overview_shows_the_counters_and_every_chart_with_its_numbers(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    with app.app_context():
        store(done(1, "del", good=6, bad=2, idle=100, run=1000))
    auth.login("viewer")
    page = client.get("/?period=hour").text
    assert 'data-counter="items_good">6<' in page and 'data-counter="items_bad">2<' in page
    assert 'data-counter="failure_rate">25.0 %<' in page
    for chart in ("chart-realtime", "chart-ops", "chart-items", "chart-idle", "chart-exec"):
        assert f'id="{chart}"' in page
    assert page.count("<details>") >= 4 and page.count('class="numbers') >= 5
    assert '<tr data-method="del"><th scope="row">del</th><td>1</td>' in page
    assert 'aria-current="true">last hour<' in page


def test_a_bad_period_falls_back_to_24_hours(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("viewer")
    response = client.get("/?period=%27%3Bdrop")
    assert response.status_code == 200
    assert 'aria-current="true">last 24 hours<' in response.text


def test_the_realtime_poll_answers_204_until_something_changes(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("viewer")
    page = client.get("/").text
    version = re.search(r'id="realtime"[^>]*data-version="([0-9a-f]+)"', page).group(1)
    headers = {"HX-Request": "true"}
    same = client.get(f"/overview/realtime?v={version}", headers=headers)
    assert same.status_code == 204 and same.data == b""
    assert same.headers["Cache-Control"] == "no-store"
    with app.app_context():
        store(snapshot(9, num_total=5, num_good=3, is_started=True))
    changed = client.get(f"/overview/realtime?v={version}", headers=headers)
    assert changed.status_code == 200
    assert 'data-stat="running">1<' in changed.text
    new_version = re.search(r'data-version="([0-9a-f]+)"', changed.text).group(1)
    assert new_version != version and f"v={new_version}" in changed.text


def test_the_realtime_poll_needs_a_login(client: FlaskClient) -> None:
    assert client.get("/overview/realtime").status_code in (302, 401)
