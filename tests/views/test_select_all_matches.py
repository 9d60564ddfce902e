"""'Select all N matches' on the image grid: one click selects the whole search, and confirming
takes the one path of a deletion by search (resolved in the background, snapshot + hash)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import FAST_POLLING, AuthActions, cycle_until, request_deletion
from tests.views.test_deletions import deletion_id_from, resolved_page, settle
from wesog_dash import deletions
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling so that a test poller finishes operations fast."""
    return dict(FAST_POLLING)


def bulk_form(html: str) -> str:
    """The grid's bulk form, as drawn."""
    found = re.search(r'<form id="bulk-form".*?</form>', html, re.S)
    assert found, "the grid has no bulk form"
    return found.group(0)


def test_the_grid_offers_every_match_of_a_search_with_its_count(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("operator")
    html = client.get("/images", query_string={"q": "id<=100005"}).get_data(as_text=True)
    form = bulk_form(html)
    assert "Select all 5 matches" in form and 'data-match-count="5"' in form
    assert 'data-query="id&lt;=100005"' in form
    # The mode's field is off until app.js turns the mode on; the page says what it means.
    assert re.search(r'name="all_matching" value="1" data-all-matching disabled', form)
    assert "are selected, on every page. To leave some" in html
    assert "Delete all 5 matches" not in html  # one way to ask for every match, not two
    # No formula: every image of the catalogue is never one click away.
    everything = client.get("/images").get_data(as_text=True)
    assert "data-select-matches" not in bulk_form(everything)


def test_confirming_every_match_resolves_the_search_and_deletes_exactly_those(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller
) -> None:
    token = auth.login("operator")
    # What the bulk form sends in "all matches" mode (app.js enables all_matching).
    fields = {
        "csrf_token": token,
        "selection_kind": "list",
        "selection_query": "id<=100005",
        "all_matching": "1",
    }
    html = resolved_page(app, client, poller, client.post("/deletions/new", data=fields))
    assert "Delete 5 images?" in html and 'name="selection_kind" value="query"' in html
    # Opened as a page, the resolved list shows its first images with thumbnail and title.
    selection_id = re.search(r'name="selection_id" value="(\d+)"', html).group(1)  # type: ignore[union-attr]
    page = client.get(f"/selections/{selection_id}").get_data(as_text=True)
    assert '<ol class="id-preview">' in page and "/thumbs/100001.svg" in page
    assert page.count("<li>") >= 5 and "not checked" not in page
    confirm = dict(re.findall(r'name="(selection_id|ids_sha256)" value="([^"]+)"', html))
    response = client.post(
        "/deletions",
        data={
            **confirm,
            "csrf_token": token,
            "selection_kind": "query",
            "selection_query": "id<=100005",
            "reason": "every match",
        },
    )
    assert response.status_code == 303
    deletion_id = deletion_id_from(response.headers["Location"])
    settle(app, poller, deletion_id)
    with app.app_context():
        row = deletions.get_deletion(deletion_id)
        assert row is not None and row.selection_kind == "query" and row.item_count == 5
        assert [item.image_id for item in row.items] == [f"10000{n}" for n in range(1, 6)]
    page = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
    assert "Every image matching <code>id&lt;=100005</code> (5 images)" in page


def test_the_polled_list_reloads_its_page_once_ready_instead_of_asking_the_api(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller, sandbox: SandboxServer
) -> None:
    token = auth.login("operator")
    fields = {"csrf_token": token, "selection_query": "id<=100003", "all_matching": "1"}
    response = client.post("/deletions/new", data=fields)
    url = response.headers["Location"]
    resolving = client.get(url + "/live", headers={"HX-Request": "true"})
    assert "HX-Refresh" not in resolving.headers  # still resolving: it polls on
    cycle_until(poller, lambda: ready(app, url))
    calls = sum(sandbox.state.stats.values())
    live = client.get(url + "/live", headers={"HX-Request": "true"})
    assert live.headers.get("HX-Refresh") == "true" and "Delete 3 images?" in live.get_data(
        as_text=True
    )
    assert sum(sandbox.state.stats.values()) == calls  # the poll asked the API nothing


def ready(app: Flask, url: str) -> bool:
    """True once the stored list at `url` is resolved."""
    with app.app_context():
        selection = deletions.get_selection(int(url.rsplit("/", 1)[1]))
        return selection is not None and selection.state == "ready"


def test_a_request_of_several_ids_never_reads_as_single(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("viewer")
    # The service's default kind is "single" (an API or CLI caller may leave it so).
    deletion_id = request_deletion(app, ["100001", "100002", "100003"])
    page = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
    selection = re.search(r"<dt>Selection</dt><dd>(.*?)</dd>", page, re.S)
    assert selection and selection.group(1) == "3 ids given"
