"""The list of deletion requests: filters, keyset pages, and the polled table."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions, request_deletion
from wesog_dash.extensions import db
from wesog_dash.models import DeletionRequest

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

HTMX = {"HX-Request": "true"}


def add_requests(app: Flask, count: int, **fields: object) -> list[int]:
    """Store `count` deletion requests as the outbox would (none is sent: no poller runs)."""
    made = []
    with app.app_context():
        for n in range(count):
            row = DeletionRequest(
                actor=str(fields.get("actor", "alice")),
                reason=str(fields.get("reason", f"cleanup number {n}")),
                ticket=fields.get("ticket"),  # type: ignore[arg-type]
                state=str(fields.get("state", "done")),
                created_at=fields.get("created_at") or datetime.now(UTC),  # type: ignore[arg-type]
                item_count=1,
                ids_sha256="0" * 64,
            )
            db.session.add(row)
            db.session.commit()
            made.append(row.id)
    return made


def shown_ids(html: str) -> list[int]:
    """The request ids the table lists, in order."""
    return [int(n) for n in re.findall(r'<tr id="deletion-(\d+)"', html)]


def test_the_list_answers_get_and_is_linked_from_the_header_and_the_overview(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("viewer")
    made = add_requests(app, 3)
    page = client.get("/deletions")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert shown_ids(html) == list(reversed(made))
    assert 'aria-current="page">Deletions</a>' in html
    assert 'href="/deletions"' in client.get("/").get_data(as_text=True)


def test_filters_narrow_by_state_person_reason_words_and_days(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("viewer")
    old = datetime(2026, 3, 2, 12, tzinfo=UTC)
    (by_bob,) = add_requests(app, 1, actor="bob", reason="Spam flood from a bot")
    (refused,) = add_requests(app, 1, state="rejected", reason="copyright notice")
    (dated,) = add_requests(app, 1, created_at=old, reason="old", ticket="TICK-9")
    assert shown_ids(client.get("/deletions?actor=bob").get_data(as_text=True)) == [by_bob]
    assert shown_ids(client.get("/deletions?state=rejected").get_data(as_text=True)) == [refused]
    words = client.get("/deletions?words=bot+SPAM").get_data(as_text=True)
    assert shown_ids(words) == [by_bob]
    assert shown_ids(client.get("/deletions?words=tick-9").get_data(as_text=True)) == [dated]
    days = client.get("/deletions?created_from=2026-03-02&created_to=2026-03-02")
    assert shown_ids(days.get_data(as_text=True)) == [dated]
    later = (old + timedelta(days=1)).date().isoformat()
    assert dated not in shown_ids(client.get(f"/deletions?created_from={later}").text)


def test_a_bad_filter_is_explained_not_a_500(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("viewer")
    for query in (
        "created_from=2026-13-40",
        "state=nonsense",
        "before=abc",
        "after=-1",
        "words=%25_%25",
        "before=99999999999999999999",
    ):
        response = client.get(f"/deletions?{query}")
        assert response.status_code == 200, query
    assert "write the date as YYYY-MM-DD" in client.get("/deletions?created_from=x").text


def test_keyset_pages_go_older_and_back_newer_without_gaps(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("viewer")
    made = list(reversed(add_requests(app, 30, actor="carol")))
    first = client.get("/deletions?actor=carol").get_data(as_text=True)
    assert shown_ids(first) == made[:25]
    older = re.search(r'href="(/deletions\?[^"]*before=\d+[^"]*)"', first)
    assert older is not None
    second = client.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert shown_ids(second) == made[25:]
    assert "Older →" not in second
    newer = re.search(r'href="(/deletions\?[^"]*after=\d+[^"]*)"', second)
    assert newer is not None
    back = client.get(newer.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert shown_ids(back) == made[:25]


def test_the_polled_table_answers_204_until_a_request_appears(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("viewer")
    add_requests(app, 1)
    html = client.get("/deletions").get_data(as_text=True)
    version = re.search(r'id="deletion-table"[^>]*hx-vals=\'\{"v": "([^"]+)"\}', html, re.S)
    assert version is not None
    live = client.get("/deletions/list", query_string={"v": version.group(1)}, headers=HTMX)
    assert live.status_code == 204
    new_id = request_deletion(app, ["img-0001", "img-0002"], reason="fresh one")
    live = client.get("/deletions/list", query_string={"v": version.group(1)}, headers=HTMX)
    assert live.status_code == 200
    assert live.headers["Cache-Control"] == "no-store"
    assert shown_ids(live.get_data(as_text=True))[0] == new_id


def test_the_list_needs_a_login(client: FlaskClient) -> None:
    response = client.get("/deletions")
    assert response.status_code in (302, 401)
