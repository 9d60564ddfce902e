"""Live lists in a real browser: lists that update by themselves, phone width, pasted ids,
keyboard only."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import wait_for
from tests.e2e.conftest import LiveServer, log_in
from wesog_dash import deletions
from wesog_dash.models import FINAL_DELETION_STATES


def start_deletion_elsewhere(server: LiveServer, ids: list[str], reason: str) -> int:
    """A deletion requested through the service (as the API or another tab would)."""
    with server.app.app_context():
        deletion = deletions.request_deletion(
            ids, deletions.DeletionOptions(reason), deletions.Requester("cli:elsewhere")
        )
        return deletion.id


def test_a_deletion_started_elsewhere_appears_and_ends_on_ops_and_overview(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "olga", "viewer")
    ops = page.context.new_page()
    ops.goto(f"{live_server.url}/ops")
    expect(ops.locator("#op-table")).to_contain_text("No operation yet")
    expect(page.locator("#overview-panels")).to_contain_text("Nothing is queued or running")

    deletion_id = start_deletion_elsewhere(
        live_server, [str(100001 + n) for n in range(6)], "seen live"
    )
    link = f'a[href="/deletions/{deletion_id}"]'
    row = ops.locator("tr.op-row").filter(has=ops.locator(link))
    expect(row).to_have_count(1, timeout=15_000)  # appeared without a reload
    recent = page.locator("#overview-panels table.deletions tr").filter(has=page.locator(link))
    expect(recent).to_have_count(1, timeout=15_000)

    expect(row.locator(".badge")).to_have_text("Finished", timeout=20_000)  # ended, no reload
    expect(recent.locator(".badge")).to_have_text("Finished", timeout=20_000)
    expect(page.locator("#overview-panels")).to_contain_text("Nothing is queued or running")
    assert ops.url.endswith("/ops") and page.url.endswith("/")  # neither was reloaded by hand


def phone_pages(server: LiveServer, deletion_id: int, op_id: int) -> list[str]:
    """Every page of the product, for the phone-width check."""
    return [
        "/",
        "/images",
        "/images?q=zz%3E3",
        "/images/100003",
        "/images/100003/history",
        "/deletions/new?ids_text=100010,100011;a/b",
        f"/deletions/{deletion_id}",
        "/ops",
        f"/ops/{op_id}",
        "/audit",
        "/admin/users",
    ]


def test_no_page_is_wider_than_a_phone(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    too_wide = {"/login": page.evaluate("document.documentElement.scrollWidth")}
    log_in(page, live_server, "ada", "admin")  # the first request also starts the poller
    deletion_id = start_deletion_elsewhere(live_server, ["100003", "gone-1"], "phone check")

    def finished() -> int | None:
        with live_server.app.app_context():
            row = deletions.get_deletion(deletion_id)
            done = row is not None and row.state in FINAL_DELETION_STATES and row.operations
            return row.operations[0].op_id if done else None

    op_id = wait_for(finished, timeout=20)
    for path in phone_pages(live_server, deletion_id, op_id):
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
        too_wide[path] = page.evaluate("document.documentElement.scrollWidth")
    # The menu collapses behind a button and opens on demand.
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(nav.get_by_role("link", name="Operations")).to_be_visible()
    too_wide["menu open"] = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert {path: width for path, width in too_wide.items() if width > 390} == {}


def test_pasted_ids_split_on_any_separator_and_invalid_ones_are_left_out(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "pia", "operator")
    page.goto(f"{live_server.url}/images")
    page.get_by_text("Delete by id").click()
    page.get_by_label("Image ids").fill("a, b c;d\ne\nbad/id\na")
    page.get_by_role("button", name="Review and delete…").click()
    expect(page.get_by_role("heading", name="Delete 5 images?")).to_be_visible()
    summary = page.get_by_role("list", name="Summary")
    expect(summary).to_contain_text("5 to send")
    expect(summary).to_contain_text("1 duplicate dropped")
    expect(summary).to_contain_text("1 invalid, not sent")
    expect(page.locator(".error-box")).to_contain_text("bad/id")
    expect(page.locator(".id-preview")).not_to_contain_text("bad/id")
    expect(page.locator(".id-preview li")).to_have_count(5)
    page.get_by_label("Reason").fill("Ticket T-5 lists these")
    page.get_by_role("button", name="Delete 5 images").click()
    page.wait_for_url(re.compile(r"/deletions/\d+$"))
    items = page.locator("table.items tbody tr")
    expect(items).to_have_count(5)
    for image_id in "abcde":
        expect(page.locator("table.items")).to_contain_text(image_id)
    expect(page.locator("table.items")).not_to_contain_text("bad/id")


@pytest.mark.parametrize("q", ["id=100007"])
def test_keyboard_only_delete_announces_the_deletion(
    page: Page, live_server: LiveServer, q: str
) -> None:
    log_in(page, live_server, "kim", "operator")
    page.goto(f"{live_server.url}/images?q={q}")
    card = page.locator("article.card").filter(has_text="100007")
    expect(card).to_have_count(1)
    for _ in range(60):  # Tab through the page until the card's Delete has the focus
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent.trim()")
        if focused == "Delete" and card.locator(":focus").count():
            break
    else:
        pytest.fail("Tab never reached the card's Delete button")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Reason")).to_be_focused()
    page.keyboard.type("Rights holder asked, ticket T-12")
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    expect(page.locator("#announcer")).to_have_text(re.compile(r"^Deletion #\d+ sent$"))
    expect(card.locator(".card-status")).to_be_focused()
    expect(card).to_contain_text("Deleted", timeout=20_000)
