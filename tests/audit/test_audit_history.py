"""/images/<id>/history, built through the real deletion service, poller and sandbox."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import FAST_POLLING, wait_for
from wesog_dash import deletions
from wesog_dash.extensions import db
from wesog_dash.models import DeletionRequest
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)

FAST = FAST_POLLING
FINAL = ("done", "done_with_errors", "rejected")


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling, so that operations end after a few cycles."""
    return dict(FAST)


def delete(app: Flask, poller: Poller, ids: list[str], reason: str, **options: Any) -> int:
    """Request a deletion as the console does, and run the poller until it has ended."""
    with app.app_context():
        deletion_id = deletions.request_deletion(
            ids,
            deletions.DeletionOptions(reason, **options),
            deletions.Requester("alice", None, "127.0.0.1"),
        ).id

    def ended() -> bool:
        poller.run_once()
        with app.app_context():
            state = db.session.get(DeletionRequest, deletion_id).state  # type: ignore[union-attr]
            return state in FINAL

    wait_for(ended, timeout=15)
    return deletion_id


def summary(client: FlaskClient, image_id: str) -> str:
    """The closing sentence of the history page, as plain text."""
    page = client.get(f"/images/{image_id}/history").get_data(as_text=True)
    found = re.search(r'<p id="history-summary"[^>]*>(.*?)</p>', page, re.S)
    assert found, page[:2000]
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_a_deleted_image_says_when_by_whom_why_and_in_which_operation(
    app: Flask, client: FlaskClient, poller: Poller, viewer: None
) -> None:
    deletion_id = delete(app, poller, ["100004"], "takedown notice")
    with app.app_context():
        [item] = deletions.items_of(deletion_id)
        op_id = item.op_id
    sentence = summary(client, "100004")
    assert re.fullmatch(
        rf"Deleted on \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC by alice — reason “takedown notice” "
        rf"— in operation #{op_id}\.",
        sentence,
    )
    page = client.get("/images/100004/history").get_data(as_text=True)
    assert f'href="/deletions/{deletion_id}"' in page and f'href="/ops/{op_id}"' in page
    for step in (
        "deletion.requested",
        "deletion.submitted",
        f"Operation #{op_id} finished",
        "deletion.ended",
    ):
        assert step in page
    assert page.index("deletion.requested") < page.index("deletion.ended")


def test_a_failed_deletion_gives_the_message(
    app: Flask, client: FlaskClient, poller: Poller, sandbox: SandboxServer, viewer: None
) -> None:
    sandbox.settings.fail_rate = 1.0
    deletion_id = delete(app, poller, ["100006"], "spam")
    with app.app_context():
        op_id = deletions.items_of(deletion_id)[0].op_id
    assert summary(client, "100006") == f"Deletion failed: simulated failure (operation #{op_id})."


def test_a_strict_delete_of_a_missing_id_says_not_found(
    app: Flask, client: FlaskClient, poller: Poller, viewer: None
) -> None:
    delete(app, poller, ["gone-already"], "cleanup", strict=True)
    sentence = summary(client, "gone-already")
    assert sentence.startswith("Not found upstream when deletion ran (operation #")
    assert "requested by alice, reason “cleanup”" in sentence


def test_an_id_never_deleted_says_so(app: Flask, client: FlaskClient, viewer: None) -> None:
    assert summary(client, "100010") == "Never deleted through this console."
    page = client.get("/images/100010/history").get_data(as_text=True)
    assert "No deletion request ever contained this id." in page


def test_a_request_still_running_says_in_progress(
    app: Flask, client: FlaskClient, viewer: None
) -> None:
    with app.app_context():
        deletions.request_deletion(
            ["100013", "100014"], deletions.DeletionOptions("later"), deletions.Requester("alice")
        )  # a batch waits for the dispatcher, which does not run here
    assert summary(client, "100014") == "Deletion requested, still in progress."


def test_an_image_deleted_twice_describes_the_latest_and_lists_both(
    app: Flask, client: FlaskClient, poller: Poller, viewer: None
) -> None:
    first = delete(app, poller, ["100008"], "first takedown")
    second = delete(app, poller, ["100008", "100009"], "second sweep")
    sentence = summary(client, "100008")
    # The second found it gone already: not found (nothing to delete), never "deleted" twice.
    assert sentence.startswith("Not found upstream when deletion ran")
    assert "reason “second sweep”" in sentence and "deleted 2 times" not in sentence
    page = client.get("/images/100008/history").get_data(as_text=True)
    assert f"deletion #{first}" in page and f"deletion #{second}" in page
    assert page.index(f"deletion #{first}") < page.index(f"deletion #{second}")


def test_an_image_id_with_odd_characters_travels_as_one_segment(
    app: Flask, client: FlaskClient, viewer: None
) -> None:
    response = client.get("/images/a%20b%25%3F/history")
    assert response.status_code == 200
    assert "<code>a b%?</code>" in response.get_data(as_text=True)


def test_the_sentence_escapes_what_people_typed_and_shows_a_local_time(
    app: Flask, client: FlaskClient, poller: Poller, viewer: None
) -> None:
    delete(app, poller, ["100015"], "<script>alert(1)</script>")
    page = client.get("/images/100015/history").get_data(as_text=True)
    found = re.search(r'<p id="history-summary"[^>]*>(.*?)</p>', page, re.S)
    assert found
    assert "<script>alert(1)" not in found.group(1)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in found.group(1)
    assert re.search(
        r'<time class="local-time" datetime="[^"]+" title="[^"]+ UTC">', found.group(1)
    )
