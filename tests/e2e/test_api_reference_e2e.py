"""The API reference page (drawn on the server, no script) through axe-core in Chromium: at
1280×800 and 390×844, light and dark, no critical or serious finding and no page wider than
the screen; every operation's entry in the list leads to its section."""

from __future__ import annotations

from itertools import product

import pytest
from playwright.sync_api import Browser

from tests.e2e.axe import AXE_JS, AXE_VERSION, axe_findings, failing
from tests.e2e.conftest import LiveServer

VIEWS = {"desktop": (1280, 800), "phone": (390, 844)}

pytestmark = pytest.mark.skipif(
    not AXE_JS.exists(), reason=f"axe-core {AXE_VERSION} is not installed: run `make axe`"
)


def test_the_api_reference_passes_axe_at_both_widths_in_both_schemes(
    browser: Browser, live_server: LiveServer
) -> None:
    problems: list[str] = []
    for scheme, (width, height) in product(("light", "dark"), VIEWS.values()):
        context = browser.new_context(
            viewport={"width": width, "height": height}, color_scheme=scheme, bypass_csp=True
        )  # the CSP is bypassed here only, to inject axe
        page = context.new_page()
        page.goto(f"{live_server.url}/api/v1/docs")
        label = f"{width} px, {scheme}"
        for finding in failing(axe_findings(page)):
            problems.append(f"{label}: {finding['impact']} {finding['id']} {finding['targets']}")
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > width:
            problems.append(f"{label}: {wide} px wide")
        context.close()
    assert not problems, "\n".join(problems)


def test_each_listed_operation_leads_to_its_section(
    browser: Browser, live_server: LiveServer
) -> None:
    page = browser.new_page()
    page.goto(f"{live_server.url}/api/v1/docs")
    links = page.get_by_role("navigation", name="Operations").get_by_role("link")
    assert links.count() >= 25
    links.and_(page.get_by_role("link", name="POST /api/v1/deletions", exact=True)).click()
    assert page.url.endswith("#op-create_deletion")
    section = page.locator("section#op-create_deletion")
    assert section.is_visible() and "Create a deletion request" in section.inner_text()
    page.close()
