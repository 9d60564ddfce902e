"""Accounts in a real browser: first-run setup, login, logout, what a viewer may do."""

from __future__ import annotations

import json
import logging
import re

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import LiveServer, log_in

pytestmark = pytest.mark.e2e


def watch_csp(page: Page) -> list[str]:
    """Collect Content-Security-Policy violations the browser reports on the console."""
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    return violations


def printed_setup_url(caplog: pytest.LogCaptureFixture, server: LiveServer) -> str:
    """The one-time URL the server printed to its console (its log) on the first visit."""
    pattern = re.escape(server.url) + r"/setup/[A-Za-z0-9_-]+"
    found = re.findall(pattern, caplog.text)
    assert found, "the server printed no setup URL"
    return found[-1]


def test_first_run_setup_through_the_printed_url_then_logout_and_login(
    page: Page, live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    violations = watch_csp(page)
    caplog.set_level(logging.WARNING, logger="wesog_dash")
    page.goto(f"{live_server.url}/images")
    expect(page.get_by_role("heading", name="Finish setting up wesog-dash")).to_be_visible()
    expect(page.get_by_text("console where the server started")).to_be_visible()

    page.goto(printed_setup_url(caplog, live_server))
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    page.get_by_label("Password again").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Create admin and log in").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.locator(".topbar .user")).to_contain_text("root (admin)")

    # Two buttons, each saying what it ends: this session, or every session of the user.
    expect(page.get_by_role("button", name="Log out everywhere")).to_be_visible()
    page.get_by_role("button", name="Log out", exact=True).click()
    page.wait_for_url(f"{live_server.url}/login")
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))

    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator(".topbar .user")).to_contain_text("root (admin)")
    assert not violations, violations


def test_a_used_setup_url_leads_to_login(
    page: Page, live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="wesog_dash")
    page.goto(live_server.url)
    url = printed_setup_url(caplog, live_server)
    live_server.create_user("someone", "admin")
    page.goto(url)
    expect(page).to_have_url(f"{live_server.url}/login")
    expect(page.get_by_text("Setup is already complete")).to_be_visible()


def test_a_viewer_sees_no_delete_button_and_a_forged_post_is_refused(
    page: Page, live_server: LiveServer
) -> None:
    violations = watch_csp(page)
    live_server.create_user("root", "admin")
    log_in(page, live_server, "vera", "viewer")
    page.goto(f"{live_server.url}/images")
    expect(page.locator("article.card").first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Delete"))).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("^Delete"))).to_have_count(0)

    # The token every htmx request of the page sends (hx-headers on <body>).
    csrf = json.loads(page.locator("body").get_attribute("hx-headers") or "{}")["X-CSRFToken"]
    assert csrf
    form = {"image_ids": "100001", "reason": "forged", "csrf_token": csrf}
    forged = page.request.post(f"{live_server.url}/deletions", form=form)
    assert forged.status == 403
    as_htmx = page.request.post(
        f"{live_server.url}/deletions",
        form={"image_ids": "100001", "reason": "forged"},
        headers={"X-CSRFToken": csrf, "HX-Request": "true"},
    )
    assert as_htmx.status == 403
    without_token = page.request.post(
        f"{live_server.url}/deletions", form=form | {"csrf_token": ""}
    )
    assert without_token.status == 400
    assert not any(key.startswith("DELETE") for key in live_server.sandbox.state.stats)
    assert not violations, violations


def test_an_operator_sees_delete_buttons(page: Page, live_server: LiveServer) -> None:
    violations = watch_csp(page)
    log_in(page, live_server, "otto", "operator")
    page.goto(f"{live_server.url}/images")
    expect(page.locator("article.card").first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Delete ")).first).to_be_visible()
    assert not violations, violations
