"""Screenshots of every page of the console at 1280×800 and 390×844, for people to review.

Starts the sandbox and the dashboard (with its poller) on loopback, makes some history (a
deletion that ends with a failure, one still running, a tracked operation, a rejected
formula), then opens each page in Debian's Chromium and writes full-page PNGs into
`screenshots/` (git-ignored). Not a test: it asserts nothing.

    .venv/bin/python bench/screenshots.py [--out screenshots]
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from itertools import product
from pathlib import Path
from typing import Any

from _support import PASSWORD, ROOT, create_app, migrated_database, start_sandbox, wait_until
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

from wesog_dash import runner

CHROMIUM = "/usr/bin/chromium"
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}


def pages(state: dict[str, Any]) -> dict[str, str]:
    """Every page of the product, by name: path."""
    return {
        "overview": "/",
        "images": "/images",
        "images-bad-formula": "/images?q=t~beach%20%26%26%20(d%3E2020",
        "image-detail": "/images/100003",
        "image-history": "/images/100003/history",
        "confirm-pasted": "/deletions/new?ids_text=100010,%20100011%20100011;a/b%0A999999",
        "deletions": "/deletions",
        "deletions-filtered": "/deletions?state=done_with_errors&words=takedown",
        "deletion": f"/deletions/{state['deletion_id']}",
        "deletion-chunks": f"/deletions/{state['big_id']}",
        "operations": "/ops",
        "operations-unfinished": "/ops?state=unfinished",
        "operation": f"/ops/{state['op_id']}",
        "audit": "/audit",
        "reports": "/reports",
        "error-404": "/no/such/page",
        "error-405": "/logout",
        "users": "/admin/users",
        "tokens": "/tokens",
    }


def serve(uri: str, sandbox: Any) -> tuple[Any, str]:
    """The dashboard on a free loopback port, with its poller thread."""
    config = {
        "SQLALCHEMY_DATABASE_URI": uri,
        "SECRET_KEY": "shots",
        "WESOG_API_URL": sandbox.url,
        "WESOG_API_KEY": sandbox.settings.api_key,
        "WESOG_POLLER": "thread",
        "WESOG_POLL_INTERVAL": 0.5,
        "WESOG_LOGIN_THROTTLE": False,
        "WESOG_CHUNK_SIZE": 10,
    }
    app = create_app(config)
    runner.start(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, f"http://127.0.0.1:{server.server_port}"


def make_history(app: Any) -> dict[str, Any]:
    """A finished deletion with a failure and a deletion still running."""
    from wesog_dash import deletions

    with app.app_context():
        done = deletions.request_deletion(
            ["100003", "100004", "no-such-image"],
            deletions.DeletionOptions(
                "Takedown request T-77 from the rights holder", strict=True, ticket="T-77"
            ),
            deletions.Requester("olga"),
        )
        deletions.request_deletion(
            [str(100100 + n) for n in range(40)],
            deletions.DeletionOptions("Cleanup of duplicates"),
            deletions.Requester("olga"),
        )
        # More chunks than a page shows unfolded: the overall bar leads its page.
        big = deletions.request_deletion(
            [str(100150 + n) for n in range(125)],
            deletions.DeletionOptions("Bulk cleanup"),
            deletions.Requester("olga"),
        )
        deletion_id, big_id = done.id, big.id

    def ended() -> int | None:
        with app.app_context():
            row = deletions.get_deletion(deletion_id)
            final = row and row.state in ("done", "done_with_errors", "rejected")
            return row.operations[0].op_id if final and row.operations else None

    return {"deletion_id": deletion_id, "big_id": big_id, "op_id": wait_until(ended, timeout=60)}


def grid_scenes(page: Page, base: str, app: Any, out: Path, label: str) -> None:
    """The grid live: a card deleted from elsewhere (no reload), then "Select all N matches"
    and the confirmation it leads to (resolved, not confirmed: nothing more is deleted)."""
    from wesog_dash import deletions

    victim = "100010" if label.startswith("desktop") else "100011"
    page.goto(f"{base}/images?q=id%3C%3D100016")
    page.wait_for_load_state("load")
    with app.app_context():
        deletions.request_deletion(
            [victim],
            deletions.DeletionOptions("Deleted from the CLI while the grid is open"),
            deletions.Requester("cli:root"),
        )
    card = page.locator("article.card").filter(has_text=victim)
    card.locator('.card-state[data-outcome="deleted"]').wait_for(timeout=30_000)
    time.sleep(0.5)
    snap(page, out, "images-live-deleted", label)
    page.get_by_role("button", name="Select all").filter(has_text="matches").click()
    snap(page, out, "images-all-matches", label)
    page.locator("[data-selected-button]").click()
    page.locator("form.delete-form").wait_for(timeout=30_000)  # the search is resolved
    snap(page, out, "confirm-all-matches", label)


def token_scene(page: Page, base: str, out: Path, label: str) -> None:
    """A token made in the browser: its secret shown once, with the Copy button."""
    page.goto(f"{base}/tokens")
    page.get_by_label("What it is for").fill(f"screenshots {label}")
    page.get_by_role("button", name="Make token").click()
    page.locator("#issued-token").wait_for()
    snap(page, out, "tokens-issued", label)


def session_scene(browser: Any, base: str, out: Path, label: str, view: dict[str, Any]) -> None:
    """The login page of a tab whose session expired (a fresh context: nobody logged in)."""
    context = browser.new_context(**view)
    page = context.new_page()
    page.goto(f"{base}/login?why=expired&next=/ops")
    snap(page, out, "login-session-expired", label)
    context.close()


def snap(page: Page, out: Path, name: str, label: str) -> None:
    """One full-page PNG, and how wide the page is."""
    page.screenshot(path=str(out / f"{name}-{label}.png"), full_page=True)
    wide = page.evaluate("document.documentElement.scrollWidth")
    print(f"{label:8s} {name:20s} scrollWidth {wide}")


def log_in(page: Page, base: str) -> None:
    """Log in as the admin through the form."""
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def main() -> None:
    """Start everything, make some history, shoot every page at both widths."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    parser.add_argument("--only", nargs="*", help="page names to shoot (default: every page)")
    parser.add_argument("--light-only", action="store_true", help="skip the dark scheme")
    parser.add_argument("--top", action="store_true", help="the first screenful, not full pages")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    sandbox = start_sandbox(images=300, item_ms=400, start_ms=300)
    uri = migrated_database({"olga": "admin"})
    app, base = serve(uri, sandbox)
    state = make_history(app)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        schemes = ("light",) if args.light_only else ("light", "dark")
        for (size, (width, height)), scheme in product(WIDTHS.items(), schemes):
            label = size if scheme == "light" else f"{size}-dark"
            view = {"viewport": {"width": width, "height": height}, "color_scheme": scheme}
            context = browser.new_context(**view)
            page = context.new_page()
            log_in(page, base)
            for name, path in pages(state).items():
                if args.only and name not in args.only:
                    continue
                page.goto(base + path)
                page.wait_for_load_state("load")
                time.sleep(0.8)  # htmx settles and the badge loads
                page.screenshot(path=str(out / f"{name}-{label}.png"), full_page=not args.top)
                wide = page.evaluate("document.documentElement.scrollWidth")
                print(f"{label:8s} {name:20s} scrollWidth {wide} (viewport {width})")
            if not args.only:
                token_scene(page, base, out, label)
                session_scene(browser, base, out, label, view)
            if not args.only and scheme == "light":
                grid_scenes(page, base, app, out, label)
            context.close()
        browser.close()
    sandbox.stop()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main()
