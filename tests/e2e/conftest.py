"""End-to-end fixtures: the dashboard served for real, on the sandbox, driven by Chromium."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from tests.conftest import TEST_PASSWORD, create_user
from wesog_dash import create_app, runner
from wesog_dash.extensions import db
from wesog_dash.sandbox import SandboxServer, SandboxSettings

CHROMIUM = "/usr/bin/chromium"
# Chromium flags for a root user on a machine without a network beyond loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.e2e


@dataclass
class LiveServer:
    """The dashboard listening on loopback, and the app behind it."""

    app: Flask
    url: str
    sandbox: SandboxServer

    def create_user(self, username: str, role: str, password: str = TEST_PASSWORD) -> None:
        """Create a console user directly through the accounts service."""
        create_user(self.app, username, role, password)


@pytest.fixture
def e2e_sandbox_settings() -> SandboxSettings:
    """Sandbox timings slow enough to see progress, quick enough for a test."""
    return SandboxSettings(api_key="e2e-key-7b1c", images=40, item_ms=300, start_ms=300)


@pytest.fixture
def e2e_overrides() -> dict[str, Any]:
    """Extra app configuration for one e2e test."""
    return {}


@pytest.fixture
def live_server(
    e2e_sandbox_settings: SandboxSettings,
    database_url: str,
    e2e_overrides: dict[str, Any],
) -> Iterator[LiveServer]:
    """The dashboard served by werkzeug in a thread, with its poller thread running."""
    sandbox = SandboxServer(e2e_sandbox_settings, host="127.0.0.1", port=0).start()
    config = {
        "SECRET_KEY": "e2e-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WESOG_API_URL": sandbox.url,
        "WESOG_API_KEY": sandbox.settings.api_key,
        "WESOG_POLLER": "thread",
        "WESOG_POLL_INTERVAL": 0.3,
        "WESOG_QUEUED_POLL_INTERVAL": 0.3,
        "WESOG_LOGIN_THROTTLE": False,
        "WESOG_UNDO_SECONDS": 0,  # a test that shows the undo window asks for it
        **e2e_overrides,
    }
    app = create_app(config)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}", sandbox=sandbox)
    server.shutdown()
    runner.stop(app)
    app.extensions["wesog_upstream"].close()
    with app.app_context():
        db.engine.dispose()
    sandbox.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context and page per test; a JS error fails the test."""
    context = browser.new_context(timezone_id="Europe/Madrid", locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def log_in(page: Page, server: LiveServer, username: str, role: str) -> None:
    """Create a user and log in through the real form."""
    server.create_user(username, role)
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server.url}/")
