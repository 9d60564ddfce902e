"""The safety net in a real browser: Undo a deletion in its window; restore a deleted image."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import wait_for
from tests.e2e.conftest import LiveServer, log_in
from tests.e2e.test_delete_and_watch import shot


@pytest.fixture
def e2e_overrides() -> dict[str, Any]:
    """A short undo window, long enough to press Undo."""
    return {"WESOG_UNDO_SECONDS": 12}  # room for a busy machine; Undo is pressed at once


def delete_from_card(page: Page, server: LiveServer, image_id: str) -> Any:
    """Search one image, delete it from its card; returns the card."""
    page.goto(f"{server.url}/images?q=id%3D{image_id}")
    card = page.locator("article.card").filter(has_text=image_id)
    card.get_by_role("button", name=re.compile("^Delete")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Reason").fill("Takedown request")
    dialog.get_by_role("button", name="Delete 1 image").click()
    expect(dialog).to_have_count(0)
    return card


def test_undo_keeps_the_image_and_restore_brings_one_back(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "olga", "operator")
    card = delete_from_card(page, live_server, "100005")
    expect(card).to_contain_text(re.compile(r"Sending in \d+ s"))
    expect(page.locator("#toasts .toast").filter(has_text="sending in")).to_have_count(1)
    shot(page, "undo-window")
    card.get_by_role("button", name="Undo").click()
    expect(card).to_contain_text("Not deleted: undone by olga before anything was sent")
    page.reload()
    expect(page.locator("article.card").filter(has_text="100005")).to_have_count(1)
    assert live_server.sandbox.state.get_image("100005") is not None
    assert live_server.sandbox.state.stats["DELETE /imgs/{image_id}"] == 0

    card = delete_from_card(page, live_server, "100006")
    expect(card).to_contain_text("Deleted", timeout=20_000)
    page.goto(f"{live_server.url}/images/100006/history")
    expect(page.locator("#history-summary")).to_contain_text("Deleted on")
    page.get_by_role("button", name="Restore").click()
    expect(page.locator(".flash")).to_contain_text(re.compile(r"Restore sent: operation #\d+"))
    expect(page.locator("#history-summary")).to_contain_text("Restored by olga on")
    shot(page, "history-restored")

    def back_on_images() -> bool:
        page.goto(f"{live_server.url}/images?q=id%3D100006")
        return page.locator("article.card").filter(has_text="100006").count() == 1

    wait_for(back_on_images, timeout=20)
    shot(page, "restored-on-images")
