"""Every page through axe-core at 1280×800 and 390×844, light and dark: no critical and no
serious finding, and no page wider than the phone. At 390 px, a toast never covers a button
or a checkbox. One browser, one live server for all the pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.conftest import TEST_PASSWORD, wait_for
from tests.e2e.axe import AXE_JS, AXE_VERSION, axe_findings, failing, overlaps
from tests.e2e.conftest import LiveServer
from wesog_dash import deletions
from wesog_dash.sandbox import SandboxSettings

VIEWS = {"desktop": (1280, 800), "phone": (390, 844)}
CONTROLS = "button, input[type=checkbox], .button, select"

pytestmark = pytest.mark.skipif(
    not AXE_JS.exists(), reason=f"axe-core {AXE_VERSION} is not installed: run `make axe`"
)


@pytest.fixture
def e2e_sandbox_settings() -> SandboxSettings:
    """Quick operations: the pages show finished ones."""
    return SandboxSettings(api_key="e2e-key-7b1c", images=40, item_ms=20, start_ms=20)


@pytest.fixture
def e2e_overrides() -> dict[str, Any]:
    """Chunks of two ids, so that one deletion takes several operations."""
    return {"WESOG_CHUNK_SIZE": 2, "WESOG_MAX_CALLS_PER_SECOND": 100}


def history(server: LiveServer) -> dict[str, int]:
    """A chunked deletion, one that fails an image, a stored list of ids; all ended."""
    requests.get(f"{server.url}/healthz", timeout=10)  # the poller starts with the first request
    with server.app.app_context():
        chunked = deletions.request_deletion(
            [str(100020 + n) for n in range(5)],
            deletions.DeletionOptions("Cleanup of duplicates"),
            deletions.Requester("olga"),
        ).id
        failed = deletions.request_deletion(
            ["100003", "no-such-image"],
            deletions.DeletionOptions("Takedown T-77", strict=True, ticket="T-77"),
            deletions.Requester("olga"),
        ).id
        ids = [str(100001 + n) for n in range(30)]
        selection = deletions.store_list(deletions.clean_ids(ids), actor="olga").id

    def ended() -> int | None:
        with server.app.app_context():
            rows = [deletions.get_deletion(i) for i in (chunked, failed)]
            done = all(row is not None and not row.is_live for row in rows)
            return rows[0].operations[0].op_id if done and rows[0] else None  # type: ignore[union-attr]

    op_id = wait_for(ended, timeout=30)
    return {"chunked": chunked, "failed": failed, "selection": selection, "op": op_id}


def pages(state: dict[str, int]) -> dict[str, str]:
    """Every page a signed-in admin reaches, by name."""
    return {
        "overview": "/",
        "images": "/images",
        "images-bad-formula": "/images?q=d%3E%3E2020-01-01",
        "image": "/images/100003",
        "image-history": "/images/100003/history",
        "confirm": "/deletions/new?ids_text=100010,%20100011%20100011;a/b",
        "every-match": f"/selections/{state['selection']}",
        "deletions": "/deletions",
        "deletion-chunked": f"/deletions/{state['chunked']}",
        "deletion-failed": f"/deletions/{state['failed']}",
        "operations": "/ops",
        "operation": f"/ops/{state['op']}",
        "audit": "/audit",
        "reports": "/reports",
        "users": "/admin/users",
        "tokens": "/tokens",
        "not-found": "/no/such/page",
    }


def sign_in(page: Page, server: LiveServer) -> None:
    """Log in as the admin olga through the form."""
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server.url}/")


def check(page: Page, name: str, view: str, problems: list[str]) -> None:
    """axe's critical and serious findings, and a page wider than the screen."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    label = f"{name} ({view})"
    for finding in failing(axe_findings(page)):
        problems.append(f"{label}: {finding['impact']} {finding['id']} {finding['targets']}")
    wide = page.evaluate("document.documentElement.scrollWidth")
    if wide > width:
        problems.append(f"{label}: {wide} px wide")


def check_in_both_schemes(page: Page, name: str, problems: list[str]) -> None:
    """`check` the page light, then dark: the dark scheme is a media query of app.css, so
    switching the emulated scheme restyles the page in place, without loading it again."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        check(page, name, f"{width} px, {scheme}", problems)


def test_every_page_passes_axe_at_both_widths_in_both_schemes(
    browser: Browser, live_server: LiveServer
) -> None:
    live_server.create_user("olga", "admin")
    state = history(live_server)
    problems: list[str] = []
    for width, height in VIEWS.values():
        context = browser.new_context(
            viewport={"width": width, "height": height}, bypass_csp=True
        )  # the CSP is bypassed here only, to inject axe
        page = context.new_page()
        page.goto(f"{live_server.url}/login")
        check_in_both_schemes(page, "login", problems)
        sign_in(page, live_server)
        for name, path in pages(state).items():
            page.goto(live_server.url + path)
            page.wait_for_load_state("load")
            page.wait_for_selector("#running-count[data-running-count]", state="attached")
            check_in_both_schemes(page, name, problems)
        context.close()
    assert not problems, "\n".join(problems)


def test_at_390_px_the_undo_toast_covers_no_control(
    browser: Browser, live_server: LiveServer
) -> None:
    live_server.app.config["WESOG_UNDO_SECONDS"] = 30  # the toast stays (a busy machine too)
    live_server.create_user("olga", "admin")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/images?q=id%3C%3D100008")
    card = page.locator("article.card").filter(has_text="100005")
    card.scroll_into_view_if_needed()
    card.get_by_role("button", name=re.compile("^Delete")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Reason").fill("Takedown request")
    dialog.get_by_role("button", name="Delete 1 image").click()
    # The toast with Undo stays for the whole window (30 s: a loaded machine has time); it is
    # found by its words, not by its place among other toasts.
    toast = page.locator("#toasts .toast").filter(has_text="sending in")
    expect(toast).to_have_count(1)
    expect(card).to_contain_text(re.compile(r"Sending in \d+ s"))
    undo = toast.get_by_role("button", name="Undo")
    for y in (0, 400, 800, 10_000):  # wherever the reader has scrolled to
        page.evaluate(f"window.scrollTo(0, {y})")
        expect(undo).to_be_visible()  # the toast is there to cover something
        assert not overlaps(page, "#toasts .toast", CONTROLS), f"scrolled to {y}"
    box = undo.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
