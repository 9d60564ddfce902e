"""axe-core on every page of `bench/screenshots.py` at 1280×800 and 390×844, light and dark:
a table of the findings per rule and impact, and how wide each phone page is. Not a test
(tests/e2e/test_axe_e2e.py is); this is the before/after record.

    make axe && .venv/bin/python bench/axe_report.py
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from itertools import product

from _support import migrated_database, start_sandbox  # puts the project on sys.path
from playwright.sync_api import sync_playwright
from screenshots import CHROMIUM, WIDTHS, log_in, make_history, pages, serve

from tests.e2e.axe import axe_findings


def main() -> None:
    """Start everything, make some history, run axe on every page in four views."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    sandbox = start_sandbox(images=300, item_ms=400, start_ms=300)
    app, base = serve(migrated_database({"olga": "admin"}), sandbox)
    state = make_history(app)
    rules: Counter[tuple[str, str]] = Counter()
    where: dict[tuple[str, str], set[str]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        for (size, (width, height)), scheme in product(WIDTHS.items(), ("light", "dark")):
            context = browser.new_context(
                viewport={"width": width, "height": height}, color_scheme=scheme, bypass_csp=True
            )
            page = context.new_page()
            log_in(page, base)
            for name, path in pages(state).items():
                page.goto(base + path)
                page.wait_for_load_state("load")
                time.sleep(0.8)
                for finding in axe_findings(page):
                    key = (finding["impact"], finding["id"])
                    rules[key] += 1
                    where.setdefault(key, set()).add(f"{name}@{size}-{scheme}")
                wide = page.evaluate("document.documentElement.scrollWidth")
                if wide > width:
                    print(f"too wide: {name} at {size}-{scheme}: {wide}")
            context.close()
        browser.close()
    sandbox.stop()
    print(f"{'impact':9s} {'rule':32s} {'views':>5s}  pages")
    for (impact, rule), count in sorted(rules.items()):
        pages_seen = sorted({view.split("@")[0] for view in where[(impact, rule)]})
        print(f"{impact:9s} {rule:32s} {count:5d}  {', '.join(pages_seen)}")


if __name__ == "__main__":
    main()
