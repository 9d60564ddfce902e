"""Daily use in a real browser: the list of deletions grows by itself and filters without a
reload; an API token is made (copied once) and revoked on its page; a chunked deletion's page
leads with its overall bar."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import LiveServer, log_in
from wesog_dash import deletions


@pytest.fixture
def e2e_overrides() -> dict[str, Any]:
    """Chunks of two ids: five ids take three operations."""
    return {"WESOG_CHUNK_SIZE": 2}


def ask(server: LiveServer, ids: list[str], reason: str, actor: str = "cli:root") -> int:
    """A deletion requested from elsewhere (the CLI, another person)."""
    with server.app.app_context():
        row = deletions.request_deletion(
            ids, deletions.DeletionOptions(reason), deletions.Requester(actor)
        )
        return row.id


def test_the_deletions_list_grows_by_itself_and_filters_in_place(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "vera", "viewer")
    first = ask(live_server, ["100001"], "Spam flood")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Deletions").click()
    table = page.locator("#deletion-table")
    expect(table.locator(f"#deletion-{first}")).to_be_visible()
    second = ask(live_server, ["100002", "100003"], "Copyright notice", actor="olga")
    expect(table.locator(f"#deletion-{second}")).to_be_visible()  # no reload
    page.get_by_label("Person").fill("olga")
    page.get_by_role("button", name="Filter").click()
    expect(table.locator(f"#deletion-{first}")).to_have_count(0)
    expect(table.locator(f"#deletion-{second}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"actor=olga"))
    page.get_by_label("Reason or ticket has").fill("nothing like this")
    page.get_by_role("button", name="Filter").click()
    expect(table).to_contain_text("No deletion request matches these filters")


def test_a_token_is_made_copied_once_and_revoked_in_the_browser(
    browser: Browser, live_server: LiveServer
) -> None:
    live_server.create_user("otto", "operator")
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Username").fill("otto")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("What it is for").fill("nightly job")
    page.get_by_label("Expires after").select_option("30")
    page.get_by_role("button", name="Make token").click()
    secret = page.locator("#issued-token").input_value()
    assert secret.startswith("wsd_")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    row = page.locator("tr[data-status=active]").filter(has_text="nightly job")
    expect(row).to_have_count(1)
    page.reload()  # the secret is never shown again, and the form is not sent again
    assert secret not in page.content()
    expect(page.locator("tr").filter(has_text="nightly job")).to_have_count(1)
    page.locator("tr").filter(has_text="nightly job").get_by_role(
        "button", name=re.compile("^Revoke")
    ).click()
    page.get_by_role("dialog").get_by_role("button", name=re.compile("^Revoke token")).click()
    expect(page.locator(".flash")).to_contain_text("is revoked")
    expect(page.locator("tr[data-status=revoked]").filter(has_text="nightly job")).to_have_count(1)
    context.close()


def test_a_chunked_deletion_leads_with_one_bar(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "vera", "viewer")
    deletion_id = ask(live_server, [str(100010 + n) for n in range(5)], "Bulk cleanup")
    page.goto(f"{live_server.url}/deletions/{deletion_id}")
    overall = page.get_by_role("progressbar", name=f"Deletion #{deletion_id} overall progress")
    expect(overall).to_have_attribute("aria-valuemax", "5")
    expect(overall).to_have_attribute("aria-valuenow", "5", timeout=30_000)
    expect(page.locator(f"#deletion-overall-{deletion_id}")).to_contain_text("3 of 3 chunks sent")
