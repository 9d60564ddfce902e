"""The overview's realtime chart changes in the browser while operations run, without reload."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, log_in
from wesog_dash import deletions

SHOTS = os.environ.get("WESOG_E2E_SHOTS")


def test_the_realtime_chart_follows_running_operations_without_reload(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "vera", "viewer")
    realtime = page.locator("#realtime")
    expect(realtime.locator('[data-stat="running"]')).to_have_text("0")
    before = realtime.get_attribute("data-version")
    page.evaluate("window.notReloaded = true")
    with live_server.app.app_context():
        ids = [str(100001 + n) for n in range(6)]
        deletions.request_deletion(
            ids, deletions.DeletionOptions("e2e overview"), deletions.Requester("cli:test")
        )
    # Items appear in the chart's bars (and its table) as the poller records progress.
    expect(realtime.locator("rect.seg-good").first).to_be_attached(timeout=20_000)
    assert realtime.get_attribute("data-version") != before
    good_cells = realtime.locator("#realtime-table tbody td:nth-child(2)")
    expect(good_cells.filter(has_text=re.compile(r"^[1-9]\d*$")).first).to_be_attached()
    assert page.evaluate("window.notReloaded") is True
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / "overview.png"), full_page=True)
