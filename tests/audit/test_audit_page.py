"""/audit: filters, keyset pages in both directions, row links, and who may see it."""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.audit.helpers import add_events, clock_at, event_ids
from tests.conftest import AuthActions
from wesog_dash import deletions

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


def shown_ids(page: str) -> list[int]:
    """Event ids of the rows on a page, top to bottom."""
    return [int(n) for n in re.findall(r'<tr id="event-(\d+)">', page)]


def pager_link(page: str, rel: str) -> str | None:
    """The URL of the pager's "next" (older) or "prev" (newer) link, if there is one."""
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', page)
    return html_lib.unescape(found.group(1)) if found else None


def walk(client: FlaskClient, start: str, rel: str) -> list[list[int]]:
    """Follow the pager from `start` in one direction; the ids of every page visited."""
    pages, url = [], start
    while url:
        page = client.get(url).get_data(as_text=True)
        pages.append(shown_ids(page))
        url = pager_link(page, rel)
        assert len(pages) < 50, "the pager never ends"
    return pages


@pytest.fixture
def viewer_events(auth: AuthActions, app: Flask) -> list[int]:
    """Log in as a viewer; the ids of the events that wrote (user.created, login.succeeded)."""
    auth.login("viewer")
    return event_ids(app)


def test_newest_first_in_pages_of_fifty_without_gaps_or_repeats(
    app: Flask, client: FlaskClient, viewer_events: list[int]
) -> None:
    everything = sorted(viewer_events + add_events(app, 118), reverse=True)  # 120 events
    older = walk(client, "/audit?view=all", "next")
    assert [len(p) for p in older] == [50, 50, 20]
    assert [i for p in older for i in p] == everything
    last_page_url = "/audit?view=all&before=" + str(older[1][-1])
    newer = walk(client, last_page_url, "prev")
    assert newer == older[::-1]


def test_newer_pages_from_the_middle_line_up_with_older_ones(
    app: Flask, client: FlaskClient, viewer_events: list[int]
) -> None:
    everything = sorted(viewer_events + add_events(app, 160), reverse=True)
    page = client.get(f"/audit?view=all&after={everything[75]}").get_data(as_text=True)
    assert shown_ids(page) == everything[25:75]
    newer = client.get(pager_link(page, "prev") or "").get_data(as_text=True)
    assert shown_ids(newer) == everything[:25]
    assert pager_link(newer, "prev") is None
    older = client.get(pager_link(page, "next") or "").get_data(as_text=True)
    assert shown_ids(older) == everything[75:125]


def test_filtered_paging_keeps_the_filter_across_pages(
    app: Flask, client: FlaskClient, viewer_events: list[int]
) -> None:
    alice = add_events(app, 60, actor="alice")
    add_events(app, 60, actor="bob")
    more_alice = add_events(app, 15, actor="alice")
    expected = sorted(alice + more_alice, reverse=True)
    older = walk(client, "/audit?view=all&actor=alice", "next")
    assert [i for p in older for i in p] == expected and [len(p) for p in older] == [50, 25]
    assert "actor=alice" in (
        pager_link(client.get("/audit?view=all&actor=alice").text, "next") or ""
    )
    newer = walk(client, f"/audit?view=all&actor=alice&before={older[0][-1]}", "prev")
    assert newer == older[::-1]


def test_filters_by_action_group_op_outcome_and_reason_text(
    app: Flask, client: FlaskClient, viewer_events: list[int]
) -> None:
    ended = add_events(app, 2, action="operation.ended", op_id=77, outcome="finished")
    tracked = add_events(app, 1, action="operation.tracked", op_id=78)
    percent = add_events(app, 1, reason="100% sure it is spam")
    add_events(app, 1, reason="1000 sure")
    underscore = add_events(app, 1, reason="matches a_b only")
    add_events(app, 1, reason="matches axb")

    def ids(query: str) -> list[int]:
        return sorted(shown_ids(client.get("/audit?view=all&" + query).text))

    assert ids("action=operation.ended") == ended
    assert ids("action=operation.*") == ended + tracked
    assert ids("op_id=78") == tracked
    assert ids("outcome=finished") == ended
    assert ids("q=100%25") == percent
    assert ids("q=a_b") == underscore
    assert ids("q=SPAM") == percent  # case-insensitive
    assert ids("actor=alice&op_id=77") == []


def test_date_range_is_whole_utc_days_both_included(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, auth: AuthActions
) -> None:
    # Dated events first: `record` never stamps an event earlier than the one before it.
    with clock_at(monkeypatch, datetime(2026, 3, 9, 23, 59, 59, tzinfo=UTC)) as clock:
        before = add_events(app, 1)
        clock.advance(seconds=1)  # 2026-03-10 00:00:00
        first_day = add_events(app, 1)
        clock.advance(hours=23, minutes=59, seconds=59, microseconds=999_999)
        second_day = add_events(app, 1)  # 2026-03-10 23:59:59.999999
        clock.advance(days=1)
        next_day = add_events(app, 1)
    auth.login("viewer")
    page = client.get("/audit?view=all&from=2026-03-10&to=2026-03-10").text
    assert sorted(shown_ids(page)) == first_day + second_day
    assert shown_ids(client.get("/audit?view=all&to=2026-03-09").text) == before
    assert shown_ids(client.get("/audit?view=all&from=2026-03-11&to=2026-03-11").text) == next_day
    assert shown_ids(client.get("/audit?view=all&from=2030-01-01").text) == []
    assert "whole days in UTC" in page


def test_image_filter_finds_direct_events_and_deletions_containing_it(
    app: Flask, client: FlaskClient, viewer_events: list[int]
) -> None:
    direct = add_events(app, 1, image_id="100007", action="operation.ended")
    with app.app_context():
        bulk = deletions.request_deletion(
            ["100005", "100007", "100009"],
            deletions.DeletionOptions("bulk cleanup"),
            deletions.Requester("alice"),
        )
        other = deletions.request_deletion(
            ["100011", "100012"], deletions.DeletionOptions("other"), deletions.Requester("alice")
        )
        bulk_id, other_id = bulk.id, other.id
    requested = event_ids(app, deletion_id=bulk_id)
    assert requested and event_ids(app, deletion_id=other_id)
    assert sorted(shown_ids(client.get("/audit?image_id=100007").text)) == direct + requested
    assert shown_ids(client.get("/audit?image_id=100099").text) == []


def test_rows_link_to_deletion_operation_and_image_history(
    app: Flask, client: FlaskClient, viewer_events: list[int]
) -> None:
    add_events(
        app, 1, action="deletion.ended", deletion_id=12, op_id=345, image_id="a b%", outcome="done"
    )
    add_events(app, 1, action="deletion.ended", image_id="has/slash")
    page = client.get("/audit?view=all").text
    assert 'href="/deletions/12"' in page and 'href="/ops/345"' in page
    assert 'href="/images/a%20b%25/history"' in page
    assert 'data-state="done">Finished</span>' in page  # the outcome in words
    assert "has/slash" in page and "/images/has/slash/history" not in page


def test_exports_carry_the_current_filters(client: FlaskClient, viewer_events: list[int]) -> None:
    page = client.get("/audit?actor=alice&from=2026-01-01&q=x%26y").text
    links = re.findall(r'href="(/audit/export\.(?:csv|jsonl)[^"]*)"', page)
    assert len(links) == 2
    for link in links:
        link = html_lib.unescape(link)
        assert "actor=alice" in link and "from=2026-01-01" in link and "q=x%26y" in link


def test_bad_filter_values_are_explained_not_fatal(
    client: FlaskClient, viewer_events: list[int]
) -> None:
    response = client.get("/audit?op_id=abc&from=yesterday&before=zzz")
    assert response.status_code == 200
    assert "An operation id is a whole number." in response.text
    assert "From: write the date as YYYY-MM-DD" in response.text


def test_event_text_is_escaped(app: Flask, client: FlaskClient, viewer_events: list[int]) -> None:
    add_events(app, 1, reason="<script>alert(1)</script>", details={"x": "<b>"})
    page = client.get("/audit?view=all").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "<b>" not in page


@pytest.mark.parametrize(
    "url",
    [
        "/audit",
        "/audit/export.csv",
        "/audit/export.jsonl",
        "/audit/verdict",
        "/images/100001/history",
    ],
)
def test_anonymous_visitors_are_sent_to_login(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_verdict_fragment_is_not_cached(client: FlaskClient, viewer: Any) -> None:
    response = client.get("/audit/verdict")
    assert response.headers["Cache-Control"] == "no-store"
    assert 'id="audit-verdict"' in response.text and "hx-get" not in response.text


def test_the_default_view_leaves_successful_logins_one_click_away(
    app: Flask, client: FlaskClient, viewer_events: list[int]
) -> None:
    created, logged_in = viewer_events  # user.created, login.succeeded
    failed = add_events(app, 1, action="login.failed")
    page = client.get("/audit").text
    assert shown_ids(page) == [*failed, created]
    assert "Login failed" in page and "User created" in page  # words, not codes
    assert 'href="/audit?view=all"' in page and "successful logins are left out" in page
    everything = client.get("/audit?view=all").text
    assert shown_ids(everything) == [*failed, logged_in, created]
    assert "Logged in" in everything
    # The filter menus offer known actors and actions in words.
    assert '<option value="deletion.requested">Deletion requested</option>' in page
    assert re.search(r'<select[^>]*name="actor"', page)
