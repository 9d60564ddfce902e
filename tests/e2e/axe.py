"""axe-core in the browser tests: the pinned copy `make axe` installs from the npm registry,
injected into a page whose context bypasses the CSP (only in tests: the app's CSP allows no
script but its own), and the findings that fail a page (critical and serious)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_VERSION = "4.14.1"  # the Makefile installs this version (AXE_VERSION there)
AXE_JS = Path(__file__).resolve().parent / "vendor" / "node_modules" / "axe-core" / "axe.min.js"
FAILING = ("critical", "serious")


def axe_findings(page: Page) -> list[dict[str, Any]]:
    """Every axe violation on the page as it is now: rule id, impact, nodes (targets)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_JS.read_text())
    result = page.evaluate(
        """async () => {
            const found = await window.axe.run(document, {resultTypes: ["violations"]});
            return found.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
                count: v.nodes.length,
            }));
        }"""
    )
    return list(result)


def failing(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings a page must not have: critical or serious."""
    return [finding for finding in findings if finding["impact"] in FAILING]


def overlaps(page: Page, boxes: str, controls: str) -> list[str]:
    """Visible elements matching `controls` that any element matching `boxes` covers."""
    return list(
        page.evaluate(
            """([boxes, controls]) => {
                const over = [];
                const cover = Array.from(document.querySelectorAll(boxes))
                    .map(e => e.getBoundingClientRect()).filter(r => r.width && r.height);
                for (const el of document.querySelectorAll(controls)) {
                    if (el.closest(boxes)) continue;
                    const r = el.getBoundingClientRect();
                    if (!r.width || !r.height) continue;
                    for (const c of cover) {
                        const across = r.left < c.right && c.left < r.right;
                        if (across && r.top < c.bottom && c.top < r.bottom) {
                            over.push((el.outerHTML || "").slice(0, 120));
                        }
                    }
                }
                return over;
            }""",
            [boxes, controls],
        )
    )
