"""Idle polls answered from the process's memory (views/idle.py): no database statement for an
unchanged list, one for the grid's watcher, and never content on memory alone."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete

from tests.conftest import (
    AuthActions,
    engine_events,
    request_deletion,
    sql_statements,
    wait_for,
)
from tests.views.test_image_grid_live import CSRF, poll, slots, watcher
from wesog_dash import accounts, deletions
from wesog_dash.accounts import sessions
from wesog_dash.config import bounded_seconds
from wesog_dash.extensions import db
from wesog_dash.models import UserSession

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

HTMX = {"HX-Request": "true"}
VERSION = re.compile(r"hx-vals='\{\"v\": \"([^\"]+)\"\}'")
LISTS = [("/ops", "/ops/list"), ("/", "/overview/live")]


statements = sql_statements


@contextmanager
def checkouts(app: Flask) -> Iterator[list[object]]:
    """The connections the app's engine hands out meanwhile."""
    taken: list[object] = []
    with engine_events(
        app, "checkout", lambda dbapi_connection, *_: taken.append(dbapi_connection)
    ):
        yield taken


def version_of(client: FlaskClient, page: str) -> str:
    """The version a list page was rendered with (what its poll sends back as `v`)."""
    found = VERSION.search(client.get(page).get_data(as_text=True))
    assert found, f"{page} carries no list version"
    return found.group(1)


class TestFromMemory:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        # A long poll interval, so that the marker memory outlives a slow test machine.
        return {
            "WESOG_SIGNED_IN_RECHECK_SECONDS": 60,
            "WESOG_MARKER_CACHE_SECONDS": 60,
            "WESOG_POLL_INTERVAL": 30,
        }

    @pytest.mark.parametrize(("page", "live"), LISTS)
    def test_an_unchanged_list_is_answered_without_a_statement(
        self, app: Flask, client: FlaskClient, auth: AuthActions, page: str, live: str
    ) -> None:
        auth.login("viewer")
        version = version_of(client, page)  # the page checked the session in the database
        assert client.get(live, query_string={"v": version}, headers=HTMX).status_code == 204
        with statements(app) as seen, checkouts(app) as taken:
            answer = client.get(live, query_string={"v": version}, headers=HTMX)
        assert answer.status_code == 204 and answer.headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in answer.headers
        assert seen == [], "an idle poll read the database"
        assert taken == [], "an idle poll took a database connection (it may be down)"

    def test_a_changed_list_is_rendered_after_checking_the_session(
        self, app: Flask, client: FlaskClient, auth: AuthActions
    ) -> None:
        auth.login("viewer")
        with statements(app) as seen:
            answer = client.get("/ops/list", query_string={"v": "stale.1"}, headers=HTMX)
        assert answer.status_code == 200 and 'id="op-table"' in answer.get_data(as_text=True)
        assert any("user_sessions" in statement for statement in seen)

    def test_the_grid_watcher_reads_its_cards_and_nothing_else(
        self, app: Flask, client: FlaskClient, auth: AuthActions
    ) -> None:
        CSRF[client] = auth.login("viewer")
        html = client.get("/images", query_string={"q": "id<=100004"}).get_data(as_text=True)
        url, since = watcher(html)
        with statements(app) as seen:
            assert poll(client, url, since, slots(html)) == (204, "")
        assert len(seen) == 1 and "deletion_items" in seen[0], seen

    def test_a_changed_card_is_read_once_though_memory_and_view_both_ask(
        self, app: Flask, client: FlaskClient, auth: AuthActions
    ) -> None:
        CSRF[client] = auth.login("viewer")
        html = client.get("/images", query_string={"q": "id<=100004"}).get_data(as_text=True)
        url, since = watcher(html)
        request_deletion(app, ["100003"], "seen by the grid")
        with statements(app, "max(deletion_items.id)") as seen:
            status, body = poll(client, url, since, slots(html))
        assert status == 200 and 'id="card-slot-3"' in body
        assert len(seen) == 1, seen

    def test_ending_sessions_in_this_process_stops_idle_answers_at_once(
        self, app: Flask, client: FlaskClient, auth: AuthActions
    ) -> None:
        auth.login("viewer", username="vera")
        version = version_of(client, "/ops")
        assert client.get("/ops/list", query_string={"v": version}, headers=HTMX).status_code == 204
        with app.app_context():
            sessions.log_out_everywhere(accounts.find_user("vera"), actor="cli:test")
        answer = client.get("/ops/list", query_string={"v": version}, headers=HTMX)
        assert answer.status_code == 401 and answer.headers["HX-Redirect"].startswith("/login")

    def test_a_role_below_the_views_is_never_answered_from_memory(
        self, app: Flask, client: FlaskClient
    ) -> None:
        with app.test_request_context("/"):
            user = accounts.create_user("wendy", "correct horse battery", "viewer", actor="t")
            session_id = sessions.open_session(user)
            db.session.commit()
            assert sessions.signed_in_user(session_id, user.id) is not None
            assert sessions.verified_recently(session_id, user.id, "viewer")
            assert not sessions.verified_recently(session_id, user.id, "operator")
            assert not sessions.verified_recently(session_id, user.id + 1, "viewer")
            assert not sessions.verified_recently("another session", user.id, "viewer")


class TestEndedElsewhere:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"WESOG_SIGNED_IN_RECHECK_SECONDS": 1.5, "WESOG_MARKER_CACHE_SECONDS": 0}

    def test_a_session_ended_by_another_process_gets_no_content_and_is_rechecked(
        self, app: Flask, client: FlaskClient, auth: AuthActions
    ) -> None:
        auth.login("viewer")
        version = version_of(client, "/ops")
        with app.app_context():  # as another process would: this one's memory is not told
            db.session.execute(delete(UserSession))
            db.session.commit()
        started = time.monotonic()
        idle = client.get("/ops/list", query_string={"v": version}, headers=HTMX).status_code
        assert idle == 204 or time.monotonic() - started > 1.5  # at most "nothing changed"…
        changed = client.get("/ops/list", query_string={"v": "stale.1"}, headers=HTMX)
        assert changed.status_code == 401  # …and never a list
        wait_for(
            lambda: (
                client.get("/ops/list", query_string={"v": version}, headers=HTMX).status_code
                == 401
            ),
            timeout=5,
        )
        assert time.monotonic() - started < 4


class TestMarkers:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"WESOG_SIGNED_IN_RECHECK_SECONDS": 60, "WESOG_MARKER_CACHE_SECONDS": 0.3}

    def test_a_new_deletion_reaches_an_idle_overview_within_the_marker_setting(
        self, app: Flask, client: FlaskClient, auth: AuthActions
    ) -> None:
        auth.login("viewer")
        version = version_of(client, "/")
        assert (
            client.get("/overview/live", query_string={"v": version}, headers=HTMX).status_code
            == 204
        )
        deletion_id = request_deletion(app, ["100001"], "seen by the overview")
        started = time.monotonic()
        answer = wait_for(
            lambda: (
                (
                    response := client.get(
                        "/overview/live", query_string={"v": version}, headers=HTMX
                    )
                ).status_code
                == 200
                and response
            ),
            timeout=5,
        )
        assert time.monotonic() - started < 2
        assert f"#{deletion_id}" in answer.get_data(as_text=True)


@pytest.mark.parametrize("setting", [-1, "nan", "junk", None, 0])
def test_a_nonsense_memory_setting_turns_the_memory_off(setting: Any) -> None:
    assert bounded_seconds(setting, 60.0) == 0.0


def test_a_huge_memory_setting_is_capped() -> None:
    assert bounded_seconds("1e9", 60.0) == 60.0
    assert bounded_seconds(float("inf"), 5.0) == 5.0


class TestFreshMarkers:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"WESOG_MARKER_CACHE_SECONDS": 0}

    def test_pausing_a_deletion_changes_the_overview(
        self, app: Flask, client: FlaskClient, auth: AuthActions
    ) -> None:
        auth.login("operator")
        # Kept `scheduled` (an undo window), so it can be paused: both states are unfinished.
        deletion_id = request_deletion(
            app, ["100001"], "paused before it is sent", undo_seconds=600
        )
        version = version_of(client, "/")
        assert (
            client.get("/overview/live", query_string={"v": version}, headers=HTMX).status_code
            == 204
        )
        with app.app_context():
            deletions.pause(deletion_id, actor="cli:test")
        answer = client.get("/overview/live", query_string={"v": version}, headers=HTMX)
        assert answer.status_code == 200 and "Paused" in answer.get_data(as_text=True)
