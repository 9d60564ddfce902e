"""The safety net in the browser: Undo on a card, a failed card after a reload with Retry,
the deletion page's actions and report, cancel against an API that cannot, restore from the
image history, and a confirmation that says what cannot be restored."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions, wait_for
from tests.views.test_deletions import FAST, HTMX, deletion_count, post_delete, settle
from wesog_dash import deletions
from wesog_dash.operations import load_operation
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer, SandboxSettings

QUICK = {"api_key": "test-key-5f3a", "images": 60, "item_ms": 0, "start_ms": 0}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Quick polling."""
    return dict(FAST)


def deletion_id_from(html: str) -> int:
    """The id of the deletion a fragment draws."""
    found = re.search(r'href="/deletions/(\d+)"', html)
    assert found, html[:500]
    return int(found.group(1))


class TestUndoWindow:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {**FAST, "WESOG_UNDO_SECONDS": 30}

    def test_a_card_delete_waits_and_undo_sends_nothing(
        self, client: FlaskClient, auth: AuthActions, sandbox: SandboxServer
    ) -> None:
        token = auth.login("operator")
        response = post_delete(client, token, ["100007"], source="card", headers=HTMX)
        html = response.get_data(as_text=True)
        assert re.search(r"Sending in <span class=\"countdown\">(30|29) s</span>", html)
        deletion_id = deletion_id_from(html)
        toast = json.loads(response.headers["HX-Trigger"])["toast"]
        assert toast["undo"] == f"/deletions/{deletion_id}/undo"
        assert toast["message"].startswith(f"Deletion #{deletion_id}: sending in")
        page = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
        assert "Sending in" in page and f'action="/deletions/{deletion_id}/undo"' in page
        undone = client.post(
            f"/deletions/{deletion_id}/undo",
            data={"csrf_token": token, "image_id": "100007"},
            headers=HTMX,
        )
        card = undone.get_data(as_text=True)
        assert "Not deleted: undone by operator-user before anything was sent" in card
        assert 'name="image_ids" value="100007"' in card and "hx-get" not in card
        assert json.loads(undone.headers["HX-Trigger"])["toast"]["message"] == (
            f"Deletion #{deletion_id} undone: nothing was sent."
        )
        assert sandbox.state.stats["DELETE /imgs/{image_id}"] == 0
        again = client.post(f"/deletions/{deletion_id}/undo", data={"csrf_token": token})
        assert again.status_code == 303  # a second click: the same answer, nothing more
        page = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
        assert "undone: nothing was sent" in page
        assert "undone: nothing was sent." not in client.get(f"/deletions/{deletion_id}").get_data(
            as_text=True
        )  # said once


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(**QUICK, fail_rate=1.0)])
def test_a_failed_card_keeps_its_controls_after_a_reload_and_retries(
    app: Flask, client: FlaskClient, auth: AuthActions, sandbox: SandboxServer, poller: Poller
) -> None:
    token = auth.login("operator")
    html = post_delete(client, token, ["100003"], source="card", headers=HTMX).get_data(
        as_text=True
    )
    deletion_id = deletion_id_from(html)
    settle(app, poller, deletion_id)
    grid = client.get("/images?q=id%3D100003").get_data(as_text=True)
    assert "Not deleted: simulated failure" in grid
    assert 'name="image_ids" value="100003"' in grid
    assert f'action="/deletions/{deletion_id}/retry"' in grid
    sandbox.settings.fail_rate = 0.0
    retried = client.post(
        f"/deletions/{deletion_id}/retry",
        data={"csrf_token": token, "image_id": "100003"},
        headers=HTMX,
    )
    child_id = deletion_id_from(retried.get_data(as_text=True))
    assert child_id != deletion_id
    assert settle(app, poller, child_id) == "done"
    with app.app_context():
        assert deletions.get_deletion(child_id).retry_of_id == deletion_id
    page = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
    assert f'href="/deletions/{child_id}"' in page and "Retried in" in page


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(**QUICK, fail_rate=0.5)])
def test_the_deletion_page_offers_retry_copy_and_the_report(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller
) -> None:
    token = auth.login("operator")
    ids = [*(str(100010 + n) for n in range(6)), "not-there-3"]
    response = post_delete(client, token, ids, selection_kind="list")
    deletion_id = int(response.headers["Location"].rsplit("/", 1)[1])
    settle(app, poller, deletion_id)
    page = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
    with app.app_context():
        failed = deletions.failed_id_text(deletion_id)
    assert failed and f'data-copy-text="{failed}"' in page and "Copy failed ids" in page
    assert f'action="/deletions/{deletion_id}/retry"' in page
    assert "1 image cannot be restored" in page and "<code>not-there-3</code>" in page
    with app.app_context():
        deleted = [i.image_id for i in deletions.items_of(deletion_id) if i.outcome == "deleted"]
    restorable = len(deleted)  # the missing id reads "not found": nothing to restore
    assert f"Restore {restorable} deleted image" in page
    assert "<script" not in page.split("</head>")[1]  # behaviour lives in app.js
    report = client.get(f"/deletions/{deletion_id}/report.csv")
    assert report.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in report.headers["Content-Disposition"]
    lines = report.get_data(as_text=True).splitlines()
    assert lines[0] == "image_id,title,outcome,message,operation,time" and len(lines) == 8


@pytest.mark.parametrize(
    "sandbox_settings", [SandboxSettings(**QUICK, hold=True, cancel_supported=False)]
)
def test_cancel_against_an_api_that_cannot_is_a_message_not_an_error(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller
) -> None:
    token = auth.login("operator")
    response = post_delete(client, token, ["100020", "100021"], selection_kind="list")
    deletion_id = int(response.headers["Location"].rsplit("/", 1)[1])
    poller.run_once()
    cancelled = client.post(f"/deletions/{deletion_id}/cancel", data={"csrf_token": token})
    assert cancelled.status_code == 303
    page = client.get(f"/deletions/{deletion_id}")
    assert page.status_code == 200
    assert "This Wesog API cannot cancel operations." in page.get_data(as_text=True)


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(**QUICK)])
def test_restore_from_the_image_history(
    app: Flask, client: FlaskClient, auth: AuthActions, sandbox: SandboxServer, poller: Poller
) -> None:
    token = auth.login("operator")
    html = post_delete(client, token, ["100030"], source="card", headers=HTMX).get_data(
        as_text=True
    )
    settle(app, poller, deletion_id_from(html))
    history = client.get("/images/100030/history").get_data(as_text=True)
    found = re.search(r'action="/snapshots/(\d+)/restore"', history)
    assert found and "Kept metadata" in history
    restored = client.post(
        f"/snapshots/{found.group(1)}/restore", data={"csrf_token": token, "image_id": "100030"}
    )
    assert restored.status_code == 303 and restored.headers["Location"].endswith(
        "/images/100030/history"
    )
    page = client.get("/images/100030/history").get_data(as_text=True)
    assert re.search(r"Restore sent: operation #\d+ re-adds 1 image", page)
    assert "Restored by operator-user on" in page
    op_id = int(re.search(r"Restore sent: operation #(\d+)", page).group(1))

    def finished() -> bool:
        poller.run_once()
        with app.app_context():
            return bool(load_operation(op_id).is_finished)

    wait_for(finished)
    assert sandbox.state.get_image("100030") is not None
    assert 'action="/snapshots/' not in client.get("/images/100030/history").get_data(
        as_text=True
    )  # restored: not offered again


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(**QUICK)])
def test_the_confirmation_says_what_cannot_be_restored_and_takes_a_threshold(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    token = auth.login("operator")
    page = client.post(
        "/deletions/new", data={"csrf_token": token, "ids_text": "100001\nnot-there-9"}
    ).get_data(as_text=True)
    assert "cannot be restored" in page and "<code>not-there-9</code>" in page
    assert 'name="stop_percent"' in page and 'name="stop_min"' in page
    bad = post_delete(client, token, ["100001", "100002"], stop_percent="lots", stop_min="3")
    assert bad.status_code == 422 and "failure threshold" in bad.get_data(as_text=True)
    assert deletion_count(app) == 0
    good = post_delete(
        client,
        token,
        ["100001", "100002"],
        selection_kind="list",
        stop_percent="20",
        stop_min="3",
    )
    deletion_id = int(good.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        deletion = deletions.get_deletion(deletion_id)
        assert (deletion.stop_ratio, deletion.stop_min_items) == (0.2, 3)
    shown = client.get(f"/deletions/{deletion_id}").get_data(as_text=True)
    assert "when more than 20 % of at least 3 finished images fail" in shown


class TestUndoFromTheToast:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {**FAST, "WESOG_UNDO_SECONDS": 30}

    def test_the_toasts_undo_answers_with_a_toast_only(
        self, app: Flask, client: FlaskClient, auth: AuthActions, sandbox: SandboxServer
    ) -> None:
        token = auth.login("operator")
        response = post_delete(client, token, ["100009", "100010"], selection_kind="list")
        deletion_id = int(response.headers["Location"].rsplit("/", 1)[1])
        undone = client.post(
            f"/deletions/{deletion_id}/undo",
            data={"csrf_token": token, "source": "toast"},
            headers=HTMX,
        )
        assert undone.status_code == 200 and undone.get_data(as_text=True) == ""
        toast = json.loads(undone.headers["HX-Trigger"])["toast"]
        assert toast == {
            "message": f"Deletion #{deletion_id} undone: nothing was sent.",
            "level": "success",
        }
        again = client.post(
            f"/deletions/{deletion_id}/undo",
            data={"csrf_token": token, "source": "toast"},
            headers=HTMX,
        )
        assert json.loads(again.headers["HX-Trigger"])["toast"] == toast  # the same answer
        with app.app_context():
            assert deletions.get_deletion(deletion_id).state == "cancelled"
        assert sandbox.state.stats["DELETE /imgs"] == 0
