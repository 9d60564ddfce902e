"""Deleting in a real browser and watching the operation live until it ends."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import LiveServer, log_in

# Set WESOG_E2E_SHOTS=/some/dir to keep screenshots of the pages the tests walk through.
SHOTS = os.environ.get("WESOG_E2E_SHOTS")


def shot(page: Page, name: str) -> None:
    """Keep a screenshot when asked to (for looking at the pages, not for asserting)."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def expect_complete(bar: Locator) -> None:
    """The progress bar reaches its maximum (aria-valuenow == aria-valuemax)."""
    expect(bar).to_have_attribute("aria-valuemax", re.compile(r"^[1-9]\d*$"))
    total = bar.get_attribute("aria-valuemax")
    expect(bar).to_have_attribute("aria-valuenow", total or "", timeout=20_000)
    assert bar.get_attribute("aria-valuenow") == bar.get_attribute("aria-valuemax")


def test_delete_an_image_with_a_reason_and_watch_it_finish(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "olga", "operator")
    page.goto(f"{live_server.url}/images")
    shot(page, "images")
    page.get_by_label("Search formula").fill("id=100005")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("article.card")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/images\?q=id%3D100005$"))
    card = page.locator("article.card").filter(has_text="100005")

    card.get_by_role("button", name=re.compile("^Delete")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("img")).to_be_visible()
    expect(dialog).to_contain_text("100005")
    dialog.get_by_label("Reason").fill("Takedown request from the rights holder")
    shot(page, "dialog")
    dialog.get_by_role("button", name="Delete 1 image").click()
    expect(dialog).to_have_count(0)

    expect_complete(card.get_by_role("progressbar"))
    expect(page.locator("#toasts .toast").first).to_contain_text(
        re.compile(r"Operation #\d+ finished")
    )
    expect(card).to_contain_text("Deleted")
    expect(card).to_contain_text("by olga")
    shot(page, "card-done")
    op_link = card.get_by_role("link", name=re.compile(r"Operation #\d+"))
    op_id = re.search(r"\d+", op_link.inner_text()).group(0)  # type: ignore[union-attr]

    page.goto(f"{live_server.url}/ops")
    row = page.locator(f"#op-{op_id}")
    expect(row).to_contain_text("Finished")
    expect(row).to_contain_text("olga")
    expect_complete(row.get_by_role("progressbar"))
    shot(page, "ops")

    row.get_by_role("link", name=f"#{op_id}", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(f"Operation #{op_id}"))).to_be_visible()
    expect(page.locator("#op-progress")).to_contain_text("100.0% done")
    expect_complete(page.locator("#op-progress").get_by_role("progressbar"))
    expect(page.locator("dl.timeline")).to_contain_text("Finished")
    shot(page, "op-detail")


def test_strict_delete_of_a_missing_id_shows_the_failure_and_its_message(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "pablo", "operator")
    page.goto(f"{live_server.url}/images")
    page.get_by_text("Delete by id").click()
    page.get_by_label("Image ids").fill("gone-4711")
    page.get_by_role("button", name="Review and delete…").click()
    expect(page.get_by_role("heading", name="Delete 1 image?")).to_be_visible()
    expect(page.locator(".id-preview")).to_contain_text("gone-4711")
    expect(page.locator(".id-preview")).to_contain_text("not checked")  # not a formula-safe id
    page.get_by_label("Reason").fill("Takedown ticket T-99 lists it")
    page.get_by_label("Ticket").fill("T-99")
    page.get_by_label("strict").check()
    page.get_by_role("button", name="Delete 1 image").click()

    page.wait_for_url(re.compile(r"/deletions/\d+$"))
    live = page.locator("section.deletion-live")
    expect(live.locator(".deletion-state")).to_contain_text("Finished with errors", timeout=20_000)
    item = live.locator("table.items tbody tr").filter(has_text="gone-4711")
    expect(item).to_contain_text("image not found")
    expect(item.locator(".badge")).to_have_text(re.compile("Not deleted|Not found"))
    expect(page.locator("#toasts .toast").first).to_contain_text("finished with 1 failure")
    shot(page, "deletion")

    live.get_by_role("link", name=re.compile(r"#\d+")).first.click()
    expect(page.locator("#op-progress")).to_contain_text("Finished with errors")
    errors = page.locator("#op-errors")
    expect(errors).to_contain_text("gone-4711")
    expect(errors).to_contain_text("image not found")
    page.get_by_label("Filter errors by id or message").fill("nothing like it")
    expect(errors).to_contain_text("0 of 1 error")


def test_refusals_are_shown_in_place(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "rita", "operator")
    page.goto(f"{live_server.url}/images")
    page.get_by_label("Search formula").fill("zz>3")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#q-error")).to_contain_text("Unknown filter 'zz'")
    expect(page.get_by_label("Search formula")).to_have_value("zz>3")
    expect(page.locator("#toasts .toast")).to_have_count(0)  # explained in place, no error toast

    page.get_by_label("Search formula").fill("id=100003")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#q-error")).to_be_hidden()
    card = page.locator("article.card").filter(has_text="100003")
    card.get_by_role("button", name=re.compile("^Delete")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Reason").fill("   ")  # passes the browser's `required`, not ours
    dialog.get_by_role("button", name="Delete 1 image").click()
    expect(dialog.get_by_role("alert")).to_contain_text("reason")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Reason").fill("Duplicate of 100004")
    dialog.get_by_role("button", name="Delete 1 image").click()
    expect_complete(card.get_by_role("progressbar"))
