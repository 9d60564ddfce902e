"""The image grid in a real browser: cards follow deletions started elsewhere without reload,
and "Select all N matches" selects a whole search and confirms it the deletion-by-search way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, log_in
from tests.e2e.test_live_and_responsive import start_deletion_elsewhere
from wesog_dash.sandbox import SandboxSettings


@pytest.fixture
def e2e_sandbox_settings() -> SandboxSettings:
    """Items slow enough that a card is seen in progress before it ends."""
    return SandboxSettings(api_key="e2e-key-7b1c", images=40, item_ms=1500, start_ms=300)


def test_a_card_follows_a_deletion_started_elsewhere_without_reload(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "vera", "operator")
    page.goto(f"{live_server.url}/images?q=id%3C%3D100006")
    cards = page.locator("article.card")
    expect(cards).to_have_count(6)
    page.evaluate("window.notReloaded = true")
    card = cards.filter(has_text="100003")
    expect(card.get_by_role("button", name=re.compile("^Delete"))).to_be_visible()

    deletion_id = start_deletion_elsewhere(live_server, ["100003"], "asked by the API")
    # In progress first (its deletion and progress bar, no Delete button), then how it ended.
    expect(card.get_by_role("link", name=f"Deletion #{deletion_id}")).to_be_visible()
    expect(card.locator(".card-state:not([data-outcome])")).to_have_count(1)
    expect(card.get_by_role("progressbar")).to_be_visible()
    expect(card.get_by_role("button", name=re.compile("^Delete"))).to_have_count(0)
    expect(card.locator('.card-state[data-outcome="deleted"]')).to_have_count(1, timeout=20_000)
    expect(card).to_contain_text("Deleted")
    expect(card).to_contain_text("by cli:elsewhere")
    assert page.evaluate("window.notReloaded") is True
    # The other cards did not move.
    others = cards.filter(has_not_text="100003")
    expect(others.get_by_role("button", name=re.compile("^Delete"))).to_have_count(5)


def test_select_all_matches_selects_the_whole_search_and_confirms_it(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "sam", "operator")
    page.goto(f"{live_server.url}/images?q=id%3C%3D100030")
    page.get_by_role("button", name="Select all 30 matches").click()
    delete = page.get_by_role("button", name="Delete 30 images…")
    expect(delete).to_be_enabled()
    expect(delete).to_be_focused()  # the clicked button is gone; focus lands on what is next
    note = page.locator("#all-matches-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("To leave some out, narrow the formula")
    boxes = page.get_by_label("Select", exact=True)
    expect(boxes).to_have_count(24)
    for n in (0, 23):
        expect(boxes.nth(n)).to_be_checked()
        expect(boxes.nth(n)).to_be_disabled()  # single cards cannot be left out of the mode
    expect(page.locator("#announcer")).to_have_text(
        "All 30 images matching the search are selected"
    )

    page.get_by_role("link", name="Next →").click()  # the mode survives paging
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.get_by_label("Select", exact=True)).to_have_count(6)
    expect(page.get_by_label("Select", exact=True).first).to_be_checked()
    delete.click()

    page.wait_for_url(re.compile(r"/selections/\d+$"))
    heading = page.get_by_role("heading", name="Delete 30 images?")
    expect(heading).to_be_visible(timeout=20_000)  # resolved in the background
    expect(page.locator(".selection")).to_contain_text("id<=100030")
    page.get_by_label("Reason").fill("Every match, ticket T-30")
    page.get_by_role("button", name="Delete 30 images").click()
    page.wait_for_url(re.compile(r"/deletions/\d+$"))
    expect(page.locator("dl.fields").first).to_contain_text(
        "Every image matching id<=100030 (30 images)"
    )


def test_clearing_all_matches_goes_back_to_ticking_one_by_one(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "cleo", "operator")
    page.goto(f"{live_server.url}/images?q=id%3C%3D100030")
    page.get_by_role("button", name="Select all 30 matches").click()
    page.get_by_role("button", name="Clear selection").click()
    expect(page.locator("#all-matches-note")).to_be_hidden()
    expect(page.get_by_role("button", name="Select all on this page")).to_be_focused()
    expect(page.get_by_role("button", name="Delete selected…")).to_be_disabled()
    box = page.get_by_label("Select", exact=True).first
    expect(box).to_be_enabled()
    box.check()
    expect(page.get_by_role("button", name="Delete 1 image…")).to_be_enabled()
