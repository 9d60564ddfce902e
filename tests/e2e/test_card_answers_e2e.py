"""One writer per card: a card's own delete answer and the grid's watcher never both write the
card, whichever comes back first; the card always ends showing its deletion."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, log_in

Start = Callable[..., Any]


@pytest.fixture
def e2e_overrides() -> dict[str, Any]:
    """An undo window long enough to see the card waiting in it."""
    return {"WESOG_UNDO_SECONDS": 30}


class SlowAnswers:
    """WSGI middleware on the live app: holds chosen answers, and notes when requests came."""

    def __init__(self, app: Callable[[dict[str, Any], Start], Iterable[bytes]]) -> None:
        self.app = app
        self.hold: dict[str, float] = {}  # path of a POST -> seconds its answer is held
        self.seen: list[tuple[str, float, float]] = []  # (path, came, answered)
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Start) -> Iterable[bytes]:
        """Answer, late when asked to, and note when."""
        path, came = environ["PATH_INFO"], time.monotonic()
        body = list(self.app(environ, start_response))
        if environ["REQUEST_METHOD"] == "POST":
            time.sleep(self.hold.get(path, 0))
        with self.lock:
            self.seen.append((path, came, time.monotonic()))
        return body

    def times(self, path: str) -> list[tuple[float, float]]:
        """When each request for `path` came and was answered."""
        with self.lock:
            return [(came, answered) for seen, came, answered in self.seen if seen == path]


def delete_from_card(page: Page, server: LiveServer, image_id: str) -> Any:
    """Open the card's dialog and send its deletion; returns the card."""
    page.goto(f"{server.url}/images?q=id%3C%3D100008")
    card = page.locator("article.card").filter(has_text=image_id)
    card.get_by_role("button", name=re.compile("^Delete")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Reason").fill("Takedown request")
    dialog.get_by_role("button", name="Delete 1 image").click()
    return card


def test_the_watcher_waits_while_a_cards_delete_answer_is_on_its_way(
    page: Page, live_server: LiveServer
) -> None:
    slow = SlowAnswers(live_server.app.wsgi_app)
    live_server.app.wsgi_app = slow  # type: ignore[method-assign]  # the live app, wrapped
    slow.hold["/deletions"] = 2.0  # meanwhile the database already has the deletion
    log_in(page, live_server, "olga", "operator")
    card = delete_from_card(page, live_server, "100005")
    expect(card).to_contain_text(re.compile(r"Sending in \d+ s"))
    expect(card.locator(".card-state")).to_have_count(1)
    expect(card.locator(".card-status")).to_be_focused()
    [(sent, answered)] = slow.times("/deletions")
    # Polls every 0.3 s, but none is sent while the card's own answer is on its way (a
    # question sent just before the press may still arrive: 0.3 s of slack).
    asked = [came for came, _ in slow.times("/images/cards") if sent + 0.3 < came < answered]
    assert asked == []
    assert slow.times("/images/cards"), "the watcher polls again afterwards"


def test_a_slow_watcher_answer_never_overwrites_the_cards_own(
    page: Page, live_server: LiveServer
) -> None:
    slow = SlowAnswers(live_server.app.wsgi_app)
    live_server.app.wsgi_app = slow  # type: ignore[method-assign]  # the live app, wrapped
    slow.hold["/images/cards"] = 1.5  # the watcher's question is mostly on its way
    log_in(page, live_server, "olga", "operator")
    card = delete_from_card(page, live_server, "100005")
    expect(card).to_contain_text(re.compile(r"Sending in \d+ s"))
    expect(card.locator(".card-status")).to_be_focused()
    page.wait_for_timeout(2_000)  # any watcher answer in flight has come back by now
    expect(card).to_contain_text(re.compile(r"Sending in \d+ s"))
    expect(card.locator(".card-state")).to_have_count(1)
    expect(card.get_by_role("button", name="Undo")).to_be_visible()
