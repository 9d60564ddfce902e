"""Truth at the edges in a real browser: a cancelled big deletion shows its unsent and cancelled
items grey with those words and the overview's failure rate leaves them out; a pasted id that
never existed reads "Not found", never "Deleted"."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import request_deletion, wait_for
from tests.e2e.conftest import LiveServer, log_in
from wesog_dash.sandbox import SandboxSettings


@pytest.fixture
def e2e_sandbox_settings() -> SandboxSettings:
    """Operations stay queued (hold) until the test lets them run."""
    return SandboxSettings(api_key="e2e-key-7b1c", images=40, item_ms=0, start_ms=0, hold=True)


@pytest.fixture
def e2e_overrides() -> dict[str, Any]:
    """Chunks of 5 ids, four operations in flight: 30 ids are 4 chunks sent and 2 waiting."""
    return {"WESOG_CHUNK_SIZE": 5, "WESOG_MAX_INFLIGHT_OPS": 4}


def deletes(server: LiveServer) -> int:
    return server.sandbox.state.stats["DELETE /imgs"]


def test_a_cancelled_big_deletion_reads_not_sent_and_cancelled_in_grey(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "olga", "operator")  # the first request starts the poller
    ids = [str(100001 + n) for n in range(30)]
    deletion_id = request_deletion(live_server.app, ids, kind="list")
    wait_for(lambda: deletes(live_server) == 4, timeout=20)
    page.goto(f"{live_server.url}/deletions/{deletion_id}")
    page.get_by_role("button", name="Cancel the rest").click()
    items = page.locator("table.items")
    expect(items.locator(".badge.state-not_sent").first).to_have_text("Not sent")
    expect(items.locator(".badge.state-cancelled").first).to_have_text("Cancelled upstream")
    expect(items.locator(".badge.tone-bad")).to_have_count(0)
    expect(page.locator(".bar .bad.pct-0").first).to_be_attached()
    expect(page.locator(".bar .muted").first).to_be_attached()
    page.goto(f"{live_server.url}/")
    expect(page.locator('[data-counter="failure_rate"]').first).to_have_text("—")


def test_a_pasted_id_that_never_existed_reads_not_found(
    page: Page, live_server: LiveServer
) -> None:
    live_server.sandbox.settings.hold = False
    log_in(page, live_server, "pia", "operator")
    page.goto(f"{live_server.url}/images")
    page.get_by_text("Delete by id").click()
    page.get_by_label("Image ids").fill("100021, bogus, 999999999")
    page.get_by_role("button", name="Review and delete…").click()
    page.get_by_label("Reason").fill("Ticket T-9")
    page.get_by_role("button", name="Delete 3 images").click()
    page.wait_for_url(re.compile(r"/deletions/\d+$"))
    rows = page.locator("table.items tbody tr")
    expect(rows.filter(has_text="bogus")).to_contain_text("Not found", timeout=20_000)
    expect(rows.filter(has_text="999999999")).to_contain_text("Not found")
    expect(rows.filter(has_text="100021")).to_contain_text("Deleted")
    expect(rows.filter(has_text="bogus")).not_to_contain_text("Deleted")
