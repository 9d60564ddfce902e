"""Headers on every response, session cookies, idle expiry, and pages without inline code."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner

from tests.conftest import AuthActions
from wesog_dash import create_app
from wesog_dash.views.hardening import content_security_policy

FIXED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def check_headers(response: Any, sandbox_origin: str) -> None:
    """The CSP and the fixed headers, as promised."""
    for name, value in FIXED_HEADERS.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["Content-Security-Policy"]
    assert f"img-src 'self' data: {sandbox_origin}" in csp
    for part in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ):
        assert part in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_every_kind_of_response_carries_the_security_headers(
    client: FlaskClient, auth: AuthActions, sandbox
) -> None:
    anonymous = [client.get("/login"), client.get("/"), client.get("/static/app.js")]
    auth.login("viewer")
    token_less_api = client.get("/api/v1/me")
    responses = [*anonymous, client.get("/"), client.get("/no/such/page"), token_less_api]
    responses.append(client.post("/logout"))  # 400: no CSRF token
    assert [r.status_code for r in responses] == [200, 302, 200, 200, 404, 401, 400]
    for response in responses:
        check_headers(response, sandbox.url)


def test_thumbnail_hosts_are_allowed_in_img_src_and_junk_is_ignored(sandbox, tmp_path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
            "WESOG_API_URL": sandbox.url,
            "WESOG_API_KEY": "k",
            "WESOG_THUMBNAIL_HOSTS": (
                "https://cdn.example.com *.img.example.net 'unsafe-inline' a;b"
            ),
        }
    )
    csp = content_security_policy(app)
    assert f"img-src 'self' data: {sandbox.url} https://cdn.example.com *.img.example.net;" in csp
    assert "unsafe-inline" not in csp and "a;b" not in csp


def inline_code(html: str) -> list[str]:
    """What in this HTML the CSP would block: inline scripts, styles, handlers."""
    found = []
    if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html):
        found.append("inline <script>")
    if "<style" in html:
        found.append("<style> element")
    if re.search(r"\sstyle=", html):
        found.append("style= attribute")
    if re.search(r"\son[a-z]+=", html):
        found.append("on*= handler")
    if "javascript:" in html:
        found.append("javascript: URL")
    return found


def test_no_page_or_fragment_has_inline_script_style_or_handlers(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    from tests.views.test_authorization_matrix import ROUTES

    problems = [f"/login: {what}" for what in inline_code(client.get("/login").text)]
    auth.login("admin")
    with app.test_request_context():
        urls = [url_for(r.endpoint, **r.args) for r in ROUTES if r.method == "GET"]
    for url in [*urls, "/images?q=t~beach", "/images?q=((((", "/nope"]:
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers)
            response.close()  # streamed exports end inside their own context
            if response.mimetype == "text/html":
                problems += [f"{url} {headers}: {what}" for what in inline_code(response.text)]
    assert not problems, "\n".join(problems)


def test_base_page_turns_off_htmx_inline_indicator_styles(client) -> None:
    html = client.get("/login").get_data(as_text=True)
    found = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    assert found, "the page sets no htmx-config"
    config = json.loads(found.group(1))
    assert config["includeIndicatorStyles"] is False  # no inline <style> (CSP)
    assert config["historyCacheSize"] == 0  # no copies of pages (and tokens) in localStorage
    assert {"code": "422", "swap": True, "error": False} in config["responseHandling"]


def session_cookie(response: Any) -> str:
    """The Set-Cookie header of the session cookie."""
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_session_cookie_is_httponly_samesite_lax_and_not_secure_over_http(client) -> None:
    cookie = session_cookie(client.get("/login"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_over_https(client) -> None:
    cookie = session_cookie(client.get("/login", base_url="https://localhost"))
    assert "Secure" in cookie and "HttpOnly" in cookie


@pytest.fixture
def app_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Some tests ask for https URLs or a short idle time through indirect parameters."""
    return getattr(request, "param", {})


@pytest.mark.parametrize("app_overrides", [{"PREFERRED_URL_SCHEME": "https"}], indirect=True)
def test_session_cookie_is_secure_when_urls_are_https(client) -> None:
    assert "Secure" in session_cookie(client.get("/login"))


@pytest.mark.parametrize("app_overrides", [{"SESSION_IDLE_MINUTES": 15}], indirect=True)
def test_sessions_expire_after_the_idle_time_and_each_request_extends_them(
    client: FlaskClient, auth: AuthActions, monkeypatch
) -> None:
    clock = [int(time.time())]  # the signing clock of the session cookie, moved by hand
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: clock[0])
    auth.login("viewer")
    assert "Expires=" in session_cookie(client.get("/"))
    for _ in range(3):  # 42 minutes in all, never 15 idle: still logged in
        clock[0] += 14 * 60
        assert client.get("/").status_code == 200
    clock[0] += 16 * 60
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_api_never_sets_cookies(client, auth: AuthActions) -> None:
    auth.login("viewer")
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert not response.headers.getlist("Set-Cookie")


def test_a_foreign_host_gets_400_and_never_reaches_the_setup_link(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture, capsys: Any
) -> None:
    response = client.get("/login", headers={"Host": "evil.example:8443"})
    assert response.status_code == 400
    assert "does not answer to that host name" in response.get_data(as_text=True)
    assert "evil.example" not in caplog.text + capsys.readouterr().out
    assert client.get("/login", headers={"Host": "127.0.0.1:5000"}).status_code == 200


@pytest.mark.parametrize("app_overrides", [{"WESOG_BASE_URL": "https://dash.example.org"}])
def test_the_setup_link_uses_the_base_url(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    assert client.get("/login", headers={"Host": "dash.example.org"}).status_code == 200
    assert "https://dash.example.org/setup/" in caplog.text
    assert client.get("/login", headers={"Host": "localhost"}).status_code == 400


def test_authenticated_pages_and_api_answers_are_never_stored(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    assert client.get("/login").headers["Cache-Control"] == "no-store"  # the form is not kept
    auth.login("viewer")
    for path in ("/", "/ops", "/audit", "/images/100001/history"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    assert "no-store" not in client.get("/static/app.css").headers.get("Cache-Control", "")


def test_hsts_only_over_https(client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_csv_export_names_its_charset_once(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("viewer")
    assert client.get("/audit/export.csv").headers["Content-Type"] == "text/csv; charset=utf-8"
