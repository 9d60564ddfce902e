"""The image grid follows deletions started elsewhere, from the database only: each card sends
what it shows (its hidden n, id and t) and the watcher answers 204 (nothing changed) or the
changed cards."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from tests.conftest import AuthActions, cycle_until, request_deletion
from wesog_dash import deletions
from wesog_dash.poller import Poller
from wesog_dash.sandbox import SandboxServer

HTMX = {"HX-Request": "true"}
CSRF: dict[FlaskClient, str] = {}  # each test client's CSRF token, as the page's hx-headers has it


def watcher(html: str) -> tuple[str, dict[str, str]]:
    """The watcher's URL and when the grid's results were read, from the grid's page."""
    found = re.search(
        r'hx-post="([^"]+)"[^>]*hx-vals=\'\{"since": "(\d+)"\}\' '
        r'hx-include="\[data-card-watched\]"',
        html,
    )
    assert found, "the grid has no watcher"
    return found.group(1), {"since": found.group(2)}


def slots(html: str) -> list[tuple[str, str, str]]:
    """(slot, image id, what the card shows) of every card, as htmx sends them (hx-include)."""
    values = re.findall(r'name="(n|id|t)" value="([^"]*)" data-card-watched', html)
    assert [name for name, _ in values] == ["n", "id", "t"] * (len(values) // 3)
    return [(values[i][1], values[i + 1][1], values[i + 2][1]) for i in range(0, len(values), 3)]


def poll(client: FlaskClient, url: str, since: dict[str, str], cards: list) -> tuple[int, str]:
    """One poll of the watcher with these cards, as htmx sends it (with the CSRF header)."""
    form = MultiDict([("since", since["since"])])
    for n, image_id, token in cards:
        form.add("n", n)
        form.add("id", image_id)
        form.add("t", token)
    response = client.post(url, data=form, headers={**HTMX, "X-CSRFToken": CSRF[client]})
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, response.get_data(as_text=True)


def token_in(body: str, n: str) -> str:
    """What slot `n` shows (its hidden t) in a watcher answer."""
    found = re.search(
        rf'id="card-slot-{n}" hx-swap-oob="innerHTML">.*?name="t" value="([^"]+)"', body, re.S
    )
    assert found, body[:400]
    return found.group(1)


def ended(app: Flask, deletion_id: int) -> bool:
    """True once the deletion can change no more."""
    with app.app_context():
        deletion = deletions.get_deletion(deletion_id)
        return deletion is not None and not deletion.is_live


def test_a_deletion_started_elsewhere_changes_only_its_card_then_nothing(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller, sandbox: SandboxServer
) -> None:
    CSRF[client] = auth.login("viewer")
    html = client.get("/images", query_string={"q": "id<=100004"}).get_data(as_text=True)
    url, since = watcher(html)
    cards = slots(html)
    assert [image_id for _, image_id, _ in cards] == ["100001", "100002", "100003", "100004"]
    assert {token for _, _, token in cards} == {"none"}
    assert poll(client, url, since, cards) == (204, "")  # idle: nothing to swap

    deletion_id = request_deletion(app, ["100003"], "takedown from the CLI")
    status, body = poll(client, url, since, cards)
    assert status == 200 and body.count("hx-swap-oob") == 1  # only the card of 100003
    assert 'id="card-slot-3"' in body and f"Deletion #{deletion_id}" in body
    # From now on the card polls its own deletion: the watcher leaves it alone.
    assert token_in(body, "3") == f"live:{deletion_id}"
    polling = [*cards[:2], ("3", "100003", f"live:{deletion_id}"), cards[3]]
    assert poll(client, url, since, polling) == (204, "")

    cycle_until(poller, lambda: ended(app, deletion_id))
    sandbox.stop()  # from here on, an upstream call would fail: the watcher makes none
    # A card that polls its own deletion follows it itself (its poll toasts the end).
    assert poll(client, url, since, polling) == (204, "")
    # A card drawn before the deletion started gets how it ended.
    status, body = poll(client, url, since, cards)
    assert status == 200 and 'data-outcome="deleted"' in body and "by alice" in body
    cards[2] = ("3", "100003", token_in(body, "3"))
    assert poll(client, url, since, cards) == (204, "")


def test_a_deletion_that_ended_before_the_results_were_read_stays_off_the_card(
    app: Flask, poller: Poller
) -> None:
    deletion_id = request_deletion(app, ["100002"], "done before the search")
    cycle_until(poller, lambda: ended(app, deletion_id))
    with app.app_context():
        finished_at = deletions.get_deletion(deletion_id).finished_at  # type: ignore[union-attr]
        assert finished_at is not None
        # Results read after it ended list the image again (restored, say): no deletion shown.
        assert deletions.card_items(["100002"], finished_at + timedelta(seconds=1)) == {}
        # Results read before it ended: the card shows how it ended.
        shown = deletions.card_items(["100002"], finished_at - timedelta(seconds=1))
        assert shown["100002"].outcome == "deleted"


def test_junk_from_a_watcher_is_nothing_to_swap_never_an_error(
    client: FlaskClient, auth: AuthActions
) -> None:
    CSRF[client] = auth.login("viewer")
    for form in (
        {},
        {"since": "abc", "n": "1", "id": "x", "t": "none"},
        {"since": "9" * 40, "n": "1", "id": "x", "t": "none"},
        {"since": "9" * 15, "n": "1", "id": "x", "t": "none"},
        {"since": "1", "n": "-1", "id": "x", "t": "none"},
        {"since": "1", "n": "1", "id": "x" * 300, "t": "none"},
    ):
        headers = {**HTMX, "X-CSRFToken": CSRF[client]}
        assert client.post("/images/cards", data=form, headers=headers).status_code == 204
    # Like any POST, it needs the session's CSRF token (htmx sends the page's).
    assert client.post("/images/cards", data={"since": "1"}, headers=HTMX).status_code == 400


def test_a_failure_elsewhere_reads_not_deleted_with_its_reason_on_the_card(
    app: Flask, client: FlaskClient, auth: AuthActions, poller: Poller, sandbox: SandboxServer
) -> None:
    CSRF[client] = auth.login("operator")
    html = client.get("/images", query_string={"q": "id<=100002"}).get_data(as_text=True)
    url, since = watcher(html)
    cards = slots(html)
    sandbox.settings.fail_rate = 1.0  # every element fails upstream
    deletion_id = request_deletion(app, ["100002"], "fails upstream")
    cycle_until(poller, lambda: ended(app, deletion_id))
    status, body = poll(client, url, since, cards)
    assert status == 200 and body.count("hx-swap-oob") == 1 and 'id="card-slot-2"' in body
    assert 'data-outcome="failed"' in body and "Not deleted: " in body
    assert ">Retry</button>" in body  # an operator can retry it from the card
