"""Polled fragments are not user activity: they never refresh the session's idle timer. And
they read outside a transaction on PostgreSQL, so none may write more than one statement."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import AuthActions

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# An element that polls: an hx-get built with url_for and an hx-trigger that repeats.
POLLER = re.compile(
    r"hx-get=\"\{\{ url_for\('([\w.]+)'[^\"]*\"[^>]*?hx-trigger=\"[^\"]*(?:poll_trigger|every )"
)


def polled_endpoints_in_templates() -> set[str]:
    """Every endpoint that some template polls."""
    found: set[str] = set()
    for template in TEMPLATES.rglob("*.html"):
        found.update(POLLER.findall(template.read_text()))
    return found


def test_every_fragment_that_a_template_polls_is_marked_polled(app: Flask) -> None:
    polled = polled_endpoints_in_templates()
    assert {"ops.op_progress", "ops.op_list_live", "overview.overview_live"} <= polled
    assert "ops.running_count" in polled
    unmarked = {e for e in polled if not getattr(app.view_functions[e], "is_polled", False)}
    assert not unmarked, f"polled by templates but not marked @polled: {unmarked}"


@pytest.mark.parametrize("path", ["/ops/running", "/audit/verdict"])
def test_a_poll_does_not_re_sign_the_session_cookie(client, auth: AuthActions, path: str) -> None:
    auth.login("viewer")
    page = client.get("/ops")
    assert page.status_code == 200
    assert "session=" in page.headers.get("Set-Cookie", ""), "pages refresh the idle timer"
    poll = client.get(path, headers={"HX-Request": "true"})
    assert poll.status_code == 200
    assert "Set-Cookie" not in poll.headers, "a poll must not extend the session"


class TestIdleExpiry:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"SESSION_IDLE_MINUTES": 15}

    def test_a_tab_left_polling_still_logs_out_after_the_idle_time(
        self, client, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from itsdangerous import TimestampSigner

        clock = [int(time.time())]  # the signing clock of the session cookie, moved by hand
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: clock[0])
        auth.login("viewer")
        assert client.get("/ops").status_code == 200
        for _ in range(14):  # a poll a minute for 14 minutes: the session is still valid
            clock[0] += 60
            assert client.get("/ops/running", headers={"HX-Request": "true"}).status_code == 200
        clock[0] += 2 * 60  # 16 minutes since the last real request
        poll = client.get("/ops/running", headers={"HX-Request": "true"})
        assert poll.status_code == 401 and "/login" in poll.headers["HX-Redirect"]


# Each polled endpoint with its URL arguments: "deletion" and "op" are filled in by the test.
POLLED_GETS = {
    "ops.op_progress": {"op_id": "op"},
    "ops.op_row": {"op_id": "op"},
    "ops.op_errors": {"op_id": "op"},
    "ops.running_count": {},
    "ops.op_list_live": {},
    "deletions.deletion_live": {"deletion_id": "deletion"},
    "deletions.deletion_card": {"deletion_id": "deletion"},
    "deletion_list.deletion_list_live": {},
    "overview.overview_live": {},
    "overview.realtime": {},
    "audit.audit_verdict": {},
}
# Polled, and written nothing by their view (checked by reading them): a POST of the grid's
# watcher (it reads its cards) and a selection still resolving (it reads the selection).
READ_ELSEWHERE = {"images.image_cards", "selections.selection_live"}


def test_a_polled_view_writes_at_most_one_statement(
    app: Flask, client, auth: AuthActions, poller: Any
) -> None:
    """Polled views read outside a transaction on PostgreSQL (`read_without_transaction`):
    two writes there would not be all or nothing."""
    from flask import url_for
    from sqlalchemy import select

    from tests.conftest import cycle_until, request_deletion, sql_statements
    from wesog_dash.extensions import db
    from wesog_dash.models import Operation

    polled = {e for e, view in app.view_functions.items() if getattr(view, "is_polled", False)}
    assert polled == set(POLLED_GETS) | READ_ELSEWHERE, "a new polled view: add it here"
    auth.login("viewer")
    deletion_id = request_deletion(app, ["100001", "100002"])

    def its_operation() -> int | None:
        with app.app_context():
            query = select(Operation.op_id).where(Operation.deletion_id == deletion_id)
            return db.session.scalar(query)

    op_id = cycle_until(poller, its_operation)
    found = {"deletion": deletion_id, "op": op_id}
    for endpoint, arguments in POLLED_GETS.items():
        with app.test_request_context():
            url = url_for(endpoint, **{name: found[value] for name, value in arguments.items()})
        with sql_statements(app) as statements:
            assert client.get(url, headers={"HX-Request": "true"}).status_code == 200, url
        writes = [s for s in statements if not s.lstrip().upper().startswith("SELECT")]
        assert len(writes) <= 1, (url, writes)
