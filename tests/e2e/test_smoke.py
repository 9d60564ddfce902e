"""The shell of the console in a real browser."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, log_in


def test_login_shows_the_overview_with_navigation(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "ana", "viewer")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Overview", "Images", "Operations", "Audit"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_text("ana")).to_be_visible()
