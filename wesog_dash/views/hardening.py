"""Hardening shared by every response: security headers, session cookies, idle expiry."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    has_request_context,
    jsonify,
    redirect,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_login import current_user
from htmx_flask import request  # Flask's request, typed with htmx-flask's `htmx`

from ..config import settings
from ..extensions import login_manager
from ..upstream import upstream
from .common import is_passive_request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{images}; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# A CSP host-source: optional scheme, optional "*." wildcard, a host, an optional port.
HOST_SOURCE = re.compile(r"(https?://)?(\*\.)?[A-Za-z0-9.-]+(:(\d{1,5}|\*))?")


class DashboardSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions: Secure over HTTPS, and never written by the token-only API."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured, when URLs are https, or when this request came over HTTPS."""
        if app.config.get("SESSION_COOKIE_SECURE"):
            return True
        if app.config.get("PREFERRED_URL_SCHEME") == "https":
            return True
        return bool(has_request_context() and request.is_secure)

    def should_set_cookie(self, app: Flask, session: Any) -> bool:
        """The JSON API authenticates by token only; it neither reads nor refreshes cookies."""
        if has_request_context() and request.blueprint == "api":
            return False
        if has_request_context() and is_passive_request():
            return False  # polling is not activity: the idle timer keeps running
        return super().should_set_cookie(app, session)


def image_sources(app: Flask) -> list[str]:
    """Origins allowed in img-src: the API's own (thumbnails) and WESOG_THUMBNAIL_HOSTS."""
    try:
        origins = upstream(app).thumbnail_origins()
    except Exception:  # a misconfigured API must not take every page (and its headers) down
        app.logger.warning("Cannot tell the Wesog API's origin; thumbnails may not load.")
        origins = settings(app).thumbnail_hosts.split()
    allowed = []
    for origin in origins:
        if HOST_SOURCE.fullmatch(origin):
            allowed.append(origin)
        else:
            app.logger.warning("Ignoring thumbnail host %r: not a plain origin.", origin)
    return allowed


def content_security_policy(app: Flask) -> str:
    """The CSP header, computed on first use (it may start the sandbox) and then kept."""
    policy = app.extensions.get("wesog_csp")
    if policy is None:
        sources = image_sources(app)
        policy = CSP.format(images="".join(f" {source}" for source in sources))
        app.extensions["wesog_csp"] = policy
    return policy


def add_security_headers(response: Response) -> Response:
    """Every response, even errors and static files, carries the same protective headers."""
    response.headers["Content-Security-Policy"] = content_security_policy(current_app)
    for name, value in STATIC_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    # (An idle poll's 204 says no-store already: its session must not be loaded just for this.)
    already = response.headers.get("Cache-Control") == "no-store"
    if request.endpoint == "auth.login" or (
        request.endpoint != "static" and not already and _authenticated()
    ):
        # What a signed-in person sees (and the login form, with its CSRF token and what was
        # typed) must not stay in a shared cache or the back button.
        response.headers["Cache-Control"] = "no-store"
    return response


def _authenticated() -> bool:
    """True when this request carried a session or a token that identified someone."""
    return bool(getattr(current_user, "is_authenticated", False))


def keep_session_alive(response: Response) -> Response:
    """Idle expiry: a permanent session is re-signed on every request for LIFETIME more."""
    if request.blueprint != "api" and session and not session.permanent:
        session.permanent = True
    return response


def local_path() -> str:
    """The path (and query) of the page that sent the user to log in."""
    if request.htmx and request.htmx.current_url:
        parts = urlsplit(request.htmx.current_url)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.full_path if request.query_string else request.path


def unauthorized() -> ResponseReturnValue:
    """Not logged in: JSON 401 for the API, a full-page redirect to /login for the rest."""
    if request.blueprint == "api":
        message = "Send a valid personal token: Authorization: Bearer <token>."
        return jsonify(error="unauthorized", message=message), 401
    why = session_end()
    target = url_for("auth.login", next=local_path(), why=why)
    if request.htmx:
        # A fragment must not swap a login form into the page: htmx follows HX-Redirect.
        return Response(status=401, headers={"HX-Redirect": target})
    if why is None:
        flash(str(login_manager.login_message), login_manager.login_message_category)
    return redirect(target)


def session_end() -> str | None:
    """Why a request that needs a login has none: "ended" when its cookie names a session the
    server no longer has (logged out everywhere, disabled, password changed), "expired" when
    a page's poll finds no session left (it idled out); None for a first visit."""
    if session.get("_user_id"):
        return "ended"
    return "expired" if request.htmx else None


def init_app(app: Flask) -> None:
    """Install cookie handling, idle expiry and the headers."""
    app.session_interface = DashboardSessionInterface()
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    login_manager.unauthorized_handler(unauthorized)
    app.after_request(keep_session_alive)
    app.after_request(add_security_headers)
