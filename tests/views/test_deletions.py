"""POST /deletions and the deletion pages, against the real sandbox and a real poller."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import FAST_POLLING, AuthActions, wait_for
from wesog_dash import deletions
from wesog_dash.extensions import db
from wesog_dash.models import FINAL_DELETION_STATES, DeletionRequest
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer

HTMX = {"HX-Request": "true"}
FAST = FAST_POLLING


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling so that a test poller finishes operations fast."""
    return dict(FAST)


def post_delete(
    client: FlaskClient,
    token: str,
    ids: list[str],
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> Any:
    """POST /deletions as the forms do."""
    data: dict[str, Any] = {"csrf_token": token, "image_ids": ids, "reason": "takedown #1"}
    data.update(fields)
    return client.post("/deletions", data=data, headers=headers or {})


def deletion_count(app: Flask) -> int:
    """How many deletion requests the database holds."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(DeletionRequest)) or 0


def settle(app: Flask, poller: Poller, deletion_id: int) -> str:
    """Run poller cycles until the request reaches a final state; returns it."""

    def final() -> str | None:
        poller.run_once()
        with app.app_context():
            state = deletions.get_deletion(deletion_id).state  # type: ignore[union-attr]
        return state if state in FINAL_DELETION_STATES else None

    return wait_for(final, timeout=15)


def deletion_id_from(location: str) -> int:
    """The id in a /deletions/<id> URL."""
    found = re.search(r"/deletions/(\d+)", location)
    assert found, location
    return int(found.group(1))


def test_htmx_delete_from_a_card_answers_the_cards_live_state(
    app: Flask, client: FlaskClient, auth: AuthActions, sandbox: SandboxServer
) -> None:
    token = auth.login("operator")
    response = post_delete(client, token, ["100007"], source="card", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "closest .card-state"
    assert response.headers["Cache-Control"] == "no-store"
    assert json.loads(response.headers["HX-Trigger"]) == {"ops-changed": True}
    deletion_id = deletion_id_from(html)
    assert f'hx-get="/deletions/{deletion_id}/card"' in html and 'hx-swap="outerHTML"' in html
    assert 'role="progressbar"' in html and re.search(r'href="/ops/\d+"', html)
    assert sandbox.state.stats["DELETE /imgs/{image_id}"] == 1


def test_without_htmx_the_post_redirects_to_the_deletion_page(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller
) -> None:
    token = auth.login("operator", username="olga")
    response = post_delete(client, token, ["100008"], ticket="JIRA-12", urgent="1")
    assert response.status_code == 303
    deletion_id = deletion_id_from(response.headers["Location"])
    page = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
    assert "olga" in page and "takedown #1" in page and "JIRA-12" in page
    assert "<dd>urgent</dd>" in page and "<code>100008</code>" in page
    assert 'class="local-time"' in page
    assert settle(app, poller, deletion_id) == "done"
    done = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
    assert "state-deleted" in done and "hx-get" not in done.split('id="deletion-live')[1]


@pytest.mark.parametrize(
    ("ids", "reason", "message"),
    [
        (["100009"], "   ", "reason"),
        (["a/b"], "takedown", "/"),
        ([], "takedown", "at least one"),
    ],
)
def test_bad_input_changes_nothing_and_is_explained(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    sandbox: SandboxServer,
    ids: list[str],
    reason: str,
    message: str,
) -> None:
    token = auth.login("operator")
    page = post_delete(client, token, ids, reason=reason, ticket="T-1")
    assert page.status_code == 422 and message in page.get_data(as_text=True)
    if ids and message == "reason":
        assert 'value="T-1"' in page.get_data(as_text=True)  # the form is kept
    fragment = post_delete(client, token, ids, reason=reason, source="card", headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 422  # swapped in place of the form (responseHandling)
    assert message in body and "<form" in body and "<html" not in body
    assert deletion_count(app) == 0
    assert not any(key.startswith("DELETE") for key in sandbox.state.stats)


def test_viewers_and_read_only_consoles_cannot_delete(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    token = auth.login("viewer")
    assert post_delete(client, token, ["100010"]).status_code == 403
    assert client.get("/deletions/new?image_ids=100010").status_code == 403
    app.config["WESOG_READ_ONLY"] = True
    auth.logout()
    token = auth.login("operator")
    assert post_delete(client, token, ["100010"]).status_code == 403
    assert "data-open-dialog" not in client.get("/images").get_data(as_text=True)
    assert deletion_count(app) == 0


def test_a_missing_id_with_strict_fails_with_the_apis_message(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller
) -> None:
    token = auth.login("operator")
    response = post_delete(client, token, ["no such id"], strict="1")
    deletion_id = deletion_id_from(response.headers["Location"])
    assert settle(app, poller, deletion_id) == "done_with_errors"
    page = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
    assert "image not found" in page and "<dd>strict</dd>" in page
    assert "state-failed" in page or "state-not_found" in page


def test_fragments_read_only_the_database_and_toast_once_finished(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller, sandbox: SandboxServer
) -> None:
    token = auth.login("operator")
    response = post_delete(client, token, ["100011"], source="card", headers=HTMX)
    deletion_id = deletion_id_from(response.get_data(as_text=True))
    sandbox.state.reset_stats()
    for _ in range(15):
        for part in ("card", "live"):
            assert client.get(f"/deletions/{deletion_id}/{part}", headers=HTMX).status_code == 200
    assert sandbox.state.stats["GET /ops/{op_id}"] == 0
    settle(app, poller, deletion_id)
    card = client.get(f"/deletions/{deletion_id}/card", headers=HTMX)
    html = card.get_data(as_text=True)
    assert "hx-get" not in html and "hx-trigger" not in html
    assert card.headers["Cache-Control"] == "no-store"
    toast = json.loads(card.headers["HX-Trigger"])["toast"]
    assert toast["level"] == "success" and re.fullmatch(
        r"Operation #\d+ finished", toast["message"]
    )
    assert 'aria-valuenow="1"' in html and 'aria-valuemax="1"' in html
    live = client.get(f"/deletions/{deletion_id}/live?quiet=1", headers=HTMX)
    assert "HX-Trigger" not in live.headers  # embedded in the op page, which toasts itself
    assert "HX-Trigger" not in client.get(f"/deletions/{deletion_id}/card").headers


class TestRefused:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {**FAST, "WESOG_API_KEY": "not-the-key"}

    def test_a_refused_request_shows_the_apis_message(
        self, client: FlaskClient, auth: AuthActions
    ) -> None:
        token = auth.login("operator")
        response = post_delete(client, token, ["100012"], source="card", headers=HTMX)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and "state-rejected" in html
        assert "refused the API key" in html and "hx-get" not in html
        assert "not-the-key" not in html


def test_the_confirmation_lists_every_selected_or_pasted_id(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller
) -> None:
    token = auth.login("operator")
    # Ticked ids travel exactly as they are; pasted text is split on any separator.
    ticked = ["100013", "a b#c?d"]
    page = client.post(
        "/deletions/new",
        data={"csrf_token": token, "image_ids": ticked, "ids_text": "100014;ünï\n\n100013"},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Delete 4 images?" in html
    assert "<strong>1</strong> duplicate dropped" in html
    for image_id in ("100013", "100014", "a b#c?d", "ünï"):
        assert f"<code>{image_id}</code>" in html
        assert f'name="image_ids" value="{image_id}"' in html
    assert "Delete 4 images</button>" in html
    response = post_delete(client, token, ["100013", "100014", "a b#c?d", "ünï"])
    deletion_id = deletion_id_from(response.headers["Location"])
    assert settle(app, poller, deletion_id) == "done_with_errors"  # two ids never existed
    with app.app_context():
        assert deletions.outcome_counts(deletion_id) == {"deleted": 2, "not_found": 2}
    assert client.get(f"/deletions/{deletion_id}").status_code == 200
    empty = client.post("/deletions/new", data={"csrf_token": token})
    assert empty.status_code == 303 and "/images" in empty.headers["Location"]
    assert "Nothing to delete" in client.get("/images").get_data(as_text=True)


def test_unknown_deletions_are_a_404_page(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("viewer")
    response = client.get("/deletions/999")
    assert response.status_code == 404 and "no deletion request #999" in response.get_data(
        as_text=True
    )


def test_a_large_request_shows_its_first_items_and_counts_them_all(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("operator")
    ids = [f"bulk-{n:03d}" for n in range(205)]
    with app.app_context():
        deletion_id = deletions.request_deletion(
            ids, deletions.DeletionOptions("bulk takedown"), deletions.Requester("operator-user")
        ).id
    html = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
    assert "Showing the first 200 of 205 images" in html
    assert "bulk-199" in html and "bulk-200" not in html
    assert re.search(r"Waiting</span>\s*205", html), "the summary counts every item"


def confirm_every_match(client: FlaskClient, token: str, q: str) -> Any:
    """Ask for the confirmation page of a deletion by search (it starts the resolution)."""
    data = {"csrf_token": token, "all_matching": "1", "selection_query": q}
    return client.post("/deletions/new", data=data)


def resolved_page(app: Flask, client: FlaskClient, poller: Poller, response: Any) -> str:
    """Follow the redirect to the selection page and poll its fragment until it is resolved."""
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    url = response.headers["Location"]
    assert "hx-get" in client.get(url).get_data(as_text=True)  # resolving: the page polls

    def done() -> str | None:
        poller.run_once()  # starts the resolution in the background
        html = client.get(url + "/live", headers=HTMX).get_data(as_text=True)
        return None if "hx-get" in html else html

    return wait_for(done, timeout=15)


def test_deleting_every_match_confirms_the_resolved_ids_and_records_the_search(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller
) -> None:
    token = auth.login("operator")
    html = resolved_page(app, client, poller, confirm_every_match(client, token, "id<=100005"))
    assert "Delete 5 images?" in html and "id&lt;=100005" in html
    assert re.findall(r"<li><code>([^<]+)</code></li>", html) == [f"10000{n}" for n in range(1, 6)]
    assert 'name="image_ids"' not in html  # the browser carries the list's id, not its ids
    fields = dict(re.findall(r'name="(selection_id|ids_sha256)" value="([^"]+)"', html))
    assert 'name="selection_kind" value="query"' in html
    with app.app_context():
        digest = deletions.get_selection(int(fields["selection_id"])).ids_sha256  # type: ignore[union-attr]
    assert fields["ids_sha256"] == digest
    response = post_delete(client, token, [], selection_kind="query", **fields)
    deletion_id = deletion_id_from(response.headers["Location"])
    assert settle(app, poller, deletion_id) == "done"
    with app.app_context():
        deletion = deletions.get_deletion(deletion_id)
        assert (deletion.selection_kind, deletion.selection_query) == ("query", "id<=100005")
        assert deletion.item_count == 5 and deletion.ids_sha256 == digest


def test_a_stale_or_tampered_list_is_refused(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller
) -> None:
    token = auth.login("operator")
    html = resolved_page(app, client, poller, confirm_every_match(client, token, "id<=100003"))
    selection_id = re.search(r'name="selection_id" value="(\d+)"', html).group(1)  # type: ignore[union-attr]
    response = post_delete(client, token, [], selection_id=selection_id, ids_sha256="0" * 64)
    assert response.status_code == 422 and "changed; review it again" in response.get_data(
        as_text=True
    )
    assert deletion_count(app) == 0


class TestTooManyMatches:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {**FAST, "WESOG_QUERY_DELETE_MAX": 3}

    def test_a_search_matching_more_than_the_cap_is_refused_with_a_message(
        self, app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller
    ) -> None:
        token = auth.login("operator")
        response = confirm_every_match(client, token, "id<=100005")
        html = resolved_page(app, client, poller, response)
        assert "matches 5 images" in html and "at most 3" in html
        assert 'name="selection_id"' not in html and "<form" not in html
        assert deletion_count(app) == 0


def test_a_search_the_api_rejects_cannot_be_deleted_by_match(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller
) -> None:
    token = auth.login("operator")
    html = resolved_page(app, client, poller, confirm_every_match(client, token, "id=((1"))
    assert "The Wesog API rejected this" in html and "<form" not in html
    assert deletion_count(app) == 0


def test_the_overview_lists_recent_requests_including_refused_ones(
    app: Flask, client: FlaskClient, auth: AuthActions, sandbox: SandboxServer
) -> None:
    auth.login("viewer")
    with app.app_context():
        sent = deletions.request_deletion(
            ["100001"], deletions.DeletionOptions("rights expired"), deletions.Requester("ana")
        )
        sandbox.settings.api_key = "rotated-key"  # upstream now refuses ours: a 401
        refused = deletions.request_deletion(
            ["100002"], deletions.DeletionOptions("duplicate <b>x</b>"), deletions.Requester("ana")
        )
        assert (sent.state, refused.state) == ("submitted", "rejected")
        sent_id, refused_id = sent.id, refused.id
    html = client.get("/").get_data(as_text=True)
    assert f'href="/deletions/{sent_id}"' in html and f'href="/deletions/{refused_id}"' in html
    assert "rights expired" in html and "duplicate &lt;b&gt;x&lt;/b&gt;" in html
    assert "refused the API key" in html
