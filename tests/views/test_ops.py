"""The operations pages and fragments, against the real sandbox and a real poller."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import FAST_POLLING, AuthActions, sql_statements, wait_for
from wesog_dash import operations
from wesog_dash.extensions import db
from wesog_dash.models import AuditEvent, Lease, Operation, utcnow
from wesog_dash.poller import Poller
from wesog_dash.poller.lease import record_pause
from wesog_dash.sandbox import SandboxServer
from wesog_dash.wesog import WesogClient

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

HTMX = {"HX-Request": "true"}
FAST = FAST_POLLING


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling so that a test poller finishes operations fast."""
    return dict(FAST)


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[WesogClient]:
    """A client of our own, standing for a script that creates operations elsewhere."""
    client = WesogClient(sandbox.url, sandbox.settings.api_key)
    yield client
    client.close()


def finish(app: Flask, poller: Poller, op_id: int) -> Operation:
    """Run poller cycles until the operation is stored as finished."""

    def done() -> Operation | None:
        poller.run_once()
        with app.app_context():
            row = operations.load_operation(op_id)
            if row is not None and row.is_finished:
                db.session.expunge(row)
                return row
        return None

    return wait_for(done, timeout=15)


def delete(client: FlaskClient, token: str, ids: list[str], **fields: Any) -> int:
    """Delete through the real form; returns the new operation's id (sent inline or queued)."""
    data = {"csrf_token": token, "image_ids": ids, "reason": "cleanup", **fields}
    response = client.post("/deletions", data=data)
    assert response.status_code == 303
    return int(response.headers["Location"].rsplit("/", 1)[1])


def op_ids_of_deletion(app: Flask, poller: Poller, deletion_id: int) -> list[int]:
    """The operations of a deletion, once it has been sent."""

    def sent() -> list[int]:
        poller.run_once()
        with app.app_context():
            from wesog_dash import deletions

            return [op.op_id for op in deletions.get_deletion(deletion_id).operations]  # type: ignore[union-attr]

    return wait_for(sent, timeout=15)


def tracked_add(client: FlaskClient, token: str, api: WesogClient, image_id: str) -> int:
    """An add operation made elsewhere (by `api`), tracked through the form; its id."""
    op_id = api.add_images([{"id": image_id, "src": "https://example.com/f.jpg"}]).op_id
    assert op_id is not None
    client.post("/ops/track", data={"csrf_token": token, "op_id": str(op_id)})
    return op_id


def test_the_list_shows_every_kind_of_operation_newest_first(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller, api: WesogClient
) -> None:
    token = auth.login("operator", username="olga")
    added = api.add_images([{"id": "fresh-1", "src": "https://example.com/f.jpg"}])
    deletion_id = delete(client, token, ["100020"])
    [deleted] = op_ids_of_deletion(app, poller, deletion_id)
    imported = client.post("/ops/import", data={"csrf_token": token}, follow_redirects=True)
    assert "Imported 1 new operation from the Wesog API" in imported.get_data(as_text=True)
    finish(app, poller, deleted)
    finish(app, poller, added.op_id)  # type: ignore[arg-type]
    html = client.get("/ops").get_data(as_text=True)
    rows = re.findall(r'<tr id="op-(\d+)"', html)
    assert [int(r) for r in rows] == sorted([deleted, added.op_id], reverse=True)  # type: ignore[type-var]
    assert ">Add images</td>" in html and ">Delete images</td>" in html
    assert "olga · " in html and f'href="/deletions/{deletion_id}"' in html
    assert 'role="progressbar"' in html and 'aria-valuenow="1" aria-valuemax' not in html
    assert re.search(r'aria-valuemax="1" aria-valuenow="1"', html)
    assert 'class="local-time"' in html


def test_filters_narrow_the_table_and_htmx_gets_only_the_table(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller, api: WesogClient
) -> None:
    token = auth.login("operator")
    added = api.add_images([{"id": "fresh-2", "src": "https://example.com/f.jpg"}])
    client.post("/ops/import", data={"csrf_token": token})
    deletion_id = delete(client, token, ["100021"])
    [deleted] = op_ids_of_deletion(app, poller, deletion_id)
    only_add = client.get("/ops?method=add").get_data(as_text=True)
    assert re.findall(r'<tr id="op-(\d+)"', only_add) == [str(added.op_id)]
    assert re.search(r'<option selected value="add">|<option value="add" selected>', only_add)
    mine = client.get("/ops?origin=dashboard", headers=HTMX)
    body = mine.get_data(as_text=True)
    assert re.findall(r'<tr id="op-(\d+)"', body) == [str(deleted)]
    assert body.lstrip().startswith('<section id="op-table"') and "<html" not in body
    today = utcnow().date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert "No operation matches" in client.get(f"/ops?created_from={tomorrow}").get_data(
        as_text=True
    )
    assert (
        len(
            re.findall(
                r'<tr id="op-', client.get(f"/ops?created_to={today}").get_data(as_text=True)
            )
        )
        == 2
    )
    bad = client.get("/ops?created_from=yesterday").get_data(as_text=True)
    assert "write the date as YYYY-MM-DD" in bad and len(re.findall(r'<tr id="op-', bad)) == 2


def list_version(html: str) -> str:
    """The version a polled list carries (hx-vals)."""
    found = re.search(r'hx-vals=\'\{"v": "([0-9a-f]+\.\d+)"\}\'', html)
    assert found, "the list carries no version"
    return found.group(1)


def test_the_list_polls_with_its_version_and_answers_204_until_something_changes(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller, api: WesogClient
) -> None:
    token = auth.login("operator")
    added = api.add_images([{"id": "fresh-3", "src": "https://example.com/f.jpg"}])
    op_id = added.op_id
    client.post("/ops/track", data={"csrf_token": token, "op_id": str(op_id)})
    html = client.get("/ops").get_data(as_text=True)
    assert 'hx-get="/ops/list"' in html and 'hx-trigger="every 200ms"' in html
    assert f'hx-get="/ops/{op_id}/row"' not in html  # rows never poll one by one
    version = list_version(html)
    idle = client.get("/ops/list", query_string={"v": version}, headers=HTMX)
    assert idle.status_code == 204 and idle.get_data() == b""
    assert idle.headers["Cache-Control"] == "no-store"
    finish(app, poller, op_id)  # type: ignore[arg-type]
    changed = client.get("/ops/list", query_string={"v": version}, headers=HTMX)
    body = changed.get_data(as_text=True)
    assert changed.status_code == 200 and body.lstrip().startswith('<section id="op-table"')
    assert f'<tr id="op-{op_id}"' in body and "Finished" in body
    toast = json.loads(changed.headers["HX-Trigger"])["toast"]
    assert toast == {
        "message": f"Operation #{op_id} finished",
        "level": "success",
        "href": f"/ops/{op_id}",
    }
    again = client.get("/ops/list", query_string={"v": list_version(body)}, headers=HTMX)
    assert again.status_code == 204
    # Another page of the same list is another version: never a 204 for it.
    other = client.get("/ops/list", query_string={"v": version, "page": "2"}, headers=HTMX)
    assert other.status_code == 200


def test_the_list_toasts_an_end_when_the_wall_clock_has_drifted_from_the_consoles(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    poller: Poller,
    api: WesogClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a process running for days the wall clock drifts from the console's (the wall time
    at start, advanced by the monotonic clock): the list's version and the ends it toasts
    are both stamped by the console's clock, so the toast still comes."""
    from wesog_dash import clock

    started_at, started = clock.wall(), clock.monotonic()
    monkeypatch.setattr(clock, "_ANCHOR", (started_at - timedelta(seconds=2), started))
    token = auth.login("operator")
    op_id = tracked_add(client, token, api, "drifted-1")
    version = list_version(client.get("/ops").get_data(as_text=True))
    finish(app, poller, op_id)
    changed = client.get("/ops/list", query_string={"v": version}, headers=HTMX)
    assert changed.status_code == 200
    toast = json.loads(changed.headers["HX-Trigger"])["toast"]
    assert toast["message"] == f"Operation #{op_id} finished"


def test_a_finished_row_toasts_once_with_a_link(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller, api: WesogClient
) -> None:
    token = auth.login("operator")
    op_id = tracked_add(client, token, api, "fresh-5")
    finish(app, poller, op_id)
    row = client.get(f"/ops/{op_id}/row", headers=HTMX)
    toast = json.loads(row.headers["HX-Trigger"])["toast"]
    assert toast["message"] == f"Operation #{op_id} finished" and toast["href"] == f"/ops/{op_id}"
    assert json.loads(row.headers["HX-Trigger"])["ops-changed"]  # the nav badge refreshes


def test_fragments_never_ask_the_api(
    app: Flask, client: FlaskClient, auth: AuthActions, api: WesogClient, sandbox: SandboxServer
) -> None:
    token = auth.login("operator")
    op_id = tracked_add(client, token, api, "fresh-4")
    sandbox.state.reset_stats()
    for _ in range(10):
        for path in ("row", "progress", "errors"):
            assert client.get(f"/ops/{op_id}/{path}", headers=HTMX).status_code == 200
        assert client.get("/ops/running", headers=HTMX).status_code == 200
    assert client.get(f"/ops/{op_id}").status_code == 200
    assert client.get("/ops").status_code == 200
    assert sum(sandbox.state.stats.values()) == 0


def test_track_refuses_junk_and_tracks_an_op_id(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller, api: WesogClient
) -> None:
    token = auth.login("operator")
    junk = client.post("/ops/track", data={"csrf_token": token, "op_id": "12abc"})
    assert junk.status_code == 303
    assert "positive whole number" in client.get("/ops").get_data(as_text=True)
    added = api.add_images([{"id": "fresh-5", "src": "https://example.com/f.jpg"}])
    tracked = client.post("/ops/track", data={"csrf_token": token, "op_id": str(added.op_id)})
    assert tracked.headers["Location"].endswith(f"/ops/{added.op_id}")
    page = client.get(f"/ops/{added.op_id}").get_data(as_text=True)
    assert "Tracking operation" in page and "Not fetched from the Wesog API yet" in page
    finish(app, poller, added.op_id)  # type: ignore[arg-type]
    done = client.get(f"/ops/{added.op_id}").get_data(as_text=True)
    assert "100.0% done" in done and "Tracked" in done
    assert '"method": "add"' in done  # the raw JSON
    assert '"method": "add"' in done  # the raw JSON
    auth.logout()
    viewer_token = auth.login("viewer")
    assert (
        client.post("/ops/track", data={"csrf_token": viewer_token, "op_id": "1"}).status_code
        == 403
    )
    assert client.post("/ops/import", data={"csrf_token": viewer_token}).status_code == 403


class TestImportUnreachable:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"WESOG_API_URL": "http://127.0.0.1:9", "WESOG_CONNECT_TIMEOUT": 0.5}

    def test_import_says_why_it_failed(self, client: FlaskClient, auth: AuthActions) -> None:
        token = auth.login("operator")
        page = client.post("/ops/import", data={"csrf_token": token}, follow_redirects=True)
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "Cannot reach the Wesog API" in html
        assert 'class="flash flash-error"' in html


def test_the_op_page_filters_errors_and_shows_its_deletion(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller
) -> None:
    token = auth.login("operator")
    ids = ["gone-1", "gone-2", "100022", "other-3"]
    deletion_id = delete(client, token, ids, strict="1", selection_kind="list")
    [op_id] = op_ids_of_deletion(app, poller, deletion_id)
    finish(app, poller, op_id)
    page = client.get(f"/ops/{op_id}").get_data(as_text=True)
    assert "3 of 3 errors" in page and "image not found" in page
    assert "25.0% good" in page and "75.0% failed" in page and "100.0% done" in page
    assert f'href="/deletions/{deletion_id}"' in page and "cleanup" in page
    assert "<details" in page and '"num_bad": 3' in page
    assert "strict" in page
    narrowed = client.get(f"/ops/{op_id}?error_q=GONE").get_data(as_text=True)
    assert (
        "2 of 3 errors match" in narrowed
        and "other-3" not in narrowed.split('id="op-errors"')[1].split("</table>")[0]
    )
    fragment = client.get(f"/ops/{op_id}/errors?error_q=other", headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="op-errors"') and "1 of 3 errors" in body
    assert "hx-get" not in body and fragment.headers["Cache-Control"] == "no-store"
    progress = client.get(f"/ops/{op_id}/progress", headers=HTMX)
    toast = json.loads(progress.headers["HX-Trigger"])["toast"]
    assert toast == {
        "message": f"Operation #{op_id} finished with 3 failures",
        "level": "error",
        "href": f"/ops/{op_id}",
    }


def test_stale_and_unreachable_notes(
    app: Flask, client: FlaskClient, auth: AuthActions, api: WesogClient
) -> None:
    token = auth.login("operator")
    op_id = tracked_add(client, token, api, "fresh-6")
    with app.app_context():
        row = db.session.get(Operation, op_id)
        row.state, row.last_change_at = "stale", utcnow() - timedelta(seconds=125)
        row.last_poll_error = "The Wesog API failed (HTTP 503): down"
        row.next_poll_at = utcnow() + timedelta(seconds=30)
        db.session.commit()
    html = client.get(f"/ops/{op_id}/progress", headers=HTMX).get_data(as_text=True)
    assert re.search(r"No progress for 12[5-9] s", html)
    assert "The last poll failed: The Wesog API failed (HTTP 503): down" in html
    assert "next try at <time" in html and f'hx-get="/ops/{op_id}/progress"' in html


def test_not_found_and_lost_upstream_are_told_as_such_never_as_unreachable(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    token = auth.login("operator")
    client.post("/ops/track", data={"csrf_token": token, "op_id": "424242"})
    with app.app_context():
        row = db.session.get(Operation, 424242)
        row.state, row.missing_since = "missing", utcnow()
        row.last_poll_error, row.next_poll_at = "not found", utcnow() + timedelta(seconds=5)
        db.session.commit()
    html = client.get("/ops/424242/progress", headers=HTMX).get_data(as_text=True)
    assert "Not found upstream" in html and "cannot be reached" not in html
    assert "hx-get" in html  # still asked now and then
    with app.app_context():
        row = db.session.get(Operation, 424242)
        row.state, row.next_poll_at = "lost", None
        row.last_poll_error = "the Wesog API has answered 404 (not found) for 300 s"
        db.session.commit()
    html = client.get("/ops/424242/progress", headers=HTMX).get_data(as_text=True)
    assert "Lost upstream:" in html and 'data-state="lost">Lost upstream</span>' in html
    assert "hx-get" not in html  # final: the page stops polling too
    assert client.get("/ops/running").get_data(as_text=True).count("424242") == 0


def test_running_count_badge(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    assert client.get("/ops/running").status_code == 302  # anonymous: to the login page
    auth.login("viewer")
    page = client.get("/").get_data(as_text=True)
    # Pages render no count themselves: the badge loads it at once, then polls.
    assert "data-running-count" not in page and 'hx-get="/ops/running"' in page
    assert 'hx-trigger="load, ' in page
    idle = client.get("/ops/running", headers=HTMX).get_data(as_text=True)
    assert 'data-running-count="0"' in idle
    with app.app_context():
        row = Operation(
            op_id=987654,
            method="del",
            resource="image",
            state="running",
            num_total=5,
            origin="tracked",
            errors=[],
        )
        db.session.add(row)
        db.session.commit()
    badge = client.get("/ops/running", headers=HTMX)
    html = badge.get_data(as_text=True)
    assert 'data-running-count="1"' in html and "1 queued or running" in html
    # The badge counts queued and running operations, and its link lists exactly those.
    assert 'href="/ops?state=unfinished"' in html and badge.headers["Cache-Control"] == "no-store"
    assert "ops-changed from:body" in html  # refreshed at once when an operation ends
    assert "hx-trigger" in html  # the badge always keeps polling


def test_unknown_operations_are_a_404_page(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("viewer")
    response = client.get("/ops/424242")
    assert response.status_code == 404 and "Track it first" in response.get_data(as_text=True)
    assert client.get("/ops/424242/row", headers=HTMX).status_code == 404


def test_a_tracked_operation_can_be_untracked_and_it_is_audited(
    app: Flask, client: FlaskClient, auth: AuthActions, api: WesogClient
) -> None:
    token = auth.login("operator", username="uma")
    op_id = api.add_images([{"id": "fresh-9", "src": "https://example.com/f.jpg"}]).op_id
    client.post("/ops/track", data={"csrf_token": token, "op_id": str(op_id)})
    assert "Stop tracking" in client.get(f"/ops/{op_id}").get_data(as_text=True)
    gone = client.post(f"/ops/{op_id}/untrack", data={"csrf_token": token}, follow_redirects=True)
    assert "is no longer tracked" in gone.get_data(as_text=True)
    assert client.get(f"/ops/{op_id}").status_code == 404
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "operation.untracked")
        ).all()
        assert [(e.actor, e.op_id) for e in events] == [("uma", op_id)]
    again = client.post(f"/ops/{op_id}/untrack", data={"csrf_token": token}, follow_redirects=True)
    assert "is not tracked" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    "app_overrides", [{"WESOG_POLL_INTERVAL": 10, "WESOG_MARKER_CACHE_SECONDS": 60}]
)
def test_the_progress_fragment_says_the_api_asked_for_a_pause_and_reads_it_once_a_while(
    app: Flask, client: FlaskClient, auth: AuthActions, api: WesogClient
) -> None:
    token = auth.login("operator")
    op_id = tracked_add(client, token, api, "paused-1")
    with app.app_context():
        until = utcnow() + timedelta(minutes=5)
        db.session.add(Lease(name="poller", holder="elsewhere", expires_at=until))
        db.session.commit()
        record_pause(until)
    url = f"/ops/{op_id}/progress"
    assert "The Wesog API asked us to slow down until" in client.get(url, headers=HTMX).text
    with sql_statements(app, "leases") as lease_reads:
        for _ in range(5):
            assert "asked us to slow down" in client.get(url, headers=HTMX).text
    # Within half a poll interval the pause is remembered: polls pay no round trip for it.
    assert lease_reads == []
