"""Four eyes in real browsers: one operator asks, a second approves from the overview, and
both watch the deletion run live."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LiveServer, log_in
from tests.e2e.test_delete_and_watch import shot

IDS = "100001, 100002, 100003"


@pytest.fixture
def e2e_overrides() -> dict[str, Any]:
    """More than two images need a second person."""
    return {"WESOG_APPROVAL_THRESHOLD": 2}


def test_a_second_operator_approves_from_the_overview_and_it_runs_live(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    log_in(page, live_server, "ana", "operator")
    page.goto(f"{live_server.url}/images")
    page.get_by_text("Delete by id").click()
    page.get_by_label("Image ids").fill(IDS)
    page.get_by_role("button", name="Review and delete…").click()
    page.get_by_label("Reason").fill("Takedown request from the rights holder")
    page.get_by_role("button", name="Delete 3 images").click()
    expect(page.locator(".deletion-state")).to_contain_text("waiting for another operator")
    expect(page.locator("#approval")).to_contain_text("someone else must approve it")
    expect(page.locator("#approve-form")).to_have_count(0)
    shot(page, "approval-requester")

    second = browser.new_context(timezone_id="Europe/Madrid", locale="en-GB")
    second.set_default_timeout(10_000)
    bob = second.new_page()
    try:
        log_in(bob, live_server, "bob", "operator")
        waiting = bob.locator("table.awaiting")
        expect(waiting).to_contain_text("ana")
        waiting.get_by_role("link", name="Review and approve").click()
        panel = bob.locator("#approval")
        expect(panel.locator("#approval-count")).to_have_text("3")
        expect(panel.locator(".id-preview li")).to_have_count(3)
        expect(panel.locator(".id-preview img").first).to_be_visible()
        expect(panel).to_contain_text("Takedown request from the rights holder")
        shot(bob, "approval-approver")
        bob.get_by_label("Why you approve").fill("Checked the rights holder's notice")
        bob.get_by_role("button", name="Approve: delete 3 images").click()
        expect(bob.locator(".deletion-live .deletion-state")).to_contain_text(
            "Finished", timeout=20_000
        )
        expect(bob.locator("dl.fields").first).to_contain_text("Approved by")
    finally:
        second.close()
    # The requester's page redraws by itself once approved, then follows the deletion live.
    expect(page.locator("#approval")).to_have_count(0, timeout=20_000)
    expect(page.locator(".deletion-live .deletion-state")).to_contain_text(
        "Finished", timeout=20_000
    )
    expect(page.locator("dl.fields").first).to_contain_text("bob")
    shot(page, "approval-done")
