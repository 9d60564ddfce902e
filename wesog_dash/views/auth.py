"""Logging in and out, and the first-run setup form."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from htmx_flask import request  # Flask's request, typed with htmx-flask's `htmx`
from werkzeug.wrappers import Response

from .. import accounts
from ..accounts import first_run as setup
from ..accounts import sessions, throttle, tokens
from ..accounts.permissions import role_required
from ..config import settings
from ..extensions import login_manager
from ..models import User
from .forms import SetupForm
from .words import plural

bp = Blueprint("auth", __name__)
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to use the console."
logger = logging.getLogger("wesog_dash")

# Why the login page is shown again (`?why=`, set when a request found its session gone).
SESSION_ENDS = {
    "ended": "Your session was ended elsewhere: you logged out everywhere, or an admin changed "
    "or disabled your account. Log in again to go on.",
    "expired": "Your session expired after a while without activity. Log in again to go on.",
}
RATE_LIMITED = "Too many failed logins from your address. Wait a little and try again."


def safe_next(target: str | None) -> str:
    """Only local paths (no spaces or control characters) are followed after login."""
    if target and not any(ord(char) < 33 or ord(char) == 127 for char in target):
        parts = urlsplit(target)
        local = target.startswith("/") and not target.startswith("//") and "\\" not in target
        if local and not parts.scheme and not parts.netloc:
            return target
    return url_for("overview.index")


def base_url() -> str:
    """Where people reach this console: WESOG_BASE_URL, else this (trusted) request's host."""
    return settings().base_url or request.host_url


def start_session(user: User, *, audited: bool = True) -> None:
    """Log `user` in on a fresh session (new CSRF token) and record the login."""
    session.clear()
    login_user(user)
    session.permanent = True
    session[sessions.SESSION_KEY] = sessions.open_session(user)
    accounts.record_login(user, audited=audited)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Show the login form, or log in (while no user exists: explain how to set up)."""
    if not setup.users_exist():
        setup.ensure_announced(base_url())
        return render_template("accounts/setup_needed.html")
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next(request.args.get("next")))
        return render_template(
            "accounts/login.html", ended=SESSION_ENDS.get(request.args.get("why", ""))
        )
    username, address = request.form.get("username", ""), request.remote_addr or ""
    refused = throttle.refusal(username, address)
    if refused is not None:
        return login_throttled(refused)
    with throttle.paced(username) as slowed:
        user = accounts.authenticate(username, request.form.get("password", ""))
        if user is None:
            accounts.record_failed_login(username, address, slowed)
    if user is None:
        return render_template("accounts/login.html", error="Wrong username or password."), 401
    start_session(user)
    return redirect(safe_next(request.args.get("next")))


def login_throttled(refused: throttle.Refusal) -> tuple[str, int, dict[str, str]]:
    """A clear message (and Retry-After) instead of a bare 429; the form stays."""
    logger.warning(
        "Login throttled (%s; address %s).", refused.reason, request.remote_addr
    )  # never the username: it may be a mistyped password
    message = f"{RATE_LIMITED} You can try again in {refused.retry_after} seconds."
    headers = {"Retry-After": str(refused.retry_after)}
    return render_template("accounts/login.html", error=message), 429, headers


@bp.post("/logout")
def logout() -> Response:
    """Log out (POST only, with CSRF): this session ends on the server too."""
    sessions.close_session(session.get(sessions.SESSION_KEY))
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.post("/logout/everywhere")
@role_required("viewer")
def logout_everywhere() -> Response | str:
    """End every session of the current user, on every device (POST, CSRF); a user with live
    API tokens is first asked whether to revoke them too (`tokens=revoke` or `keep`)."""
    live = tokens.live_tokens_of(current_user)
    choice = request.form.get("tokens")
    if live and choice not in ("keep", "revoke"):
        return render_template("accounts/logout_everywhere.html", live_tokens=live)
    actor = current_user.username
    revoked = tokens.revoke_all_of(current_user, actor=actor) if choice == "revoke" else 0
    ended = sessions.log_out_everywhere(current_user, actor=actor)
    logout_user()
    session.clear()
    words = f"{ended} {plural(ended, 'session')} ended"
    if revoked:
        words += f", {revoked} API {plural(revoked, 'token')} revoked"
    verb = "works" if len(live) == 1 else "work"
    kept = (
        f" Your {len(live)} API {plural(len(live), 'token')} still {verb}."
        if live and not revoked
        else ""
    )
    flash(f"You are logged out everywhere ({words}).{kept}", "info")
    return redirect(url_for("auth.login"))


@bp.route("/setup/<token>", methods=["GET", "POST"], endpoint="setup")
def setup_form(token: str) -> str | Response | tuple[str, int]:
    """The one-time form that creates the first admin."""
    if setup.users_exist():
        flash("Setup is already complete: log in.", "info")
        return redirect(url_for("auth.login"))
    try:
        setup.check_setup_token(token)
    except setup.SetupError as error:
        return render_template("accounts/setup.html", invalid=str(error), form=SetupForm()), 404
    form = SetupForm()
    if request.method == "GET":
        return render_template("accounts/setup.html", form=form)
    if not form.validate():
        return render_template("accounts/setup.html", form=form, error=form.first_error), 400
    try:
        user = setup.complete_setup(token, form.username.data or "", form.password.data or "")
    except (accounts.AccountError, setup.SetupError) as error:
        return render_template("accounts/setup.html", form=form, error=str(error)), 400
    start_session(user, audited=False)
    flash(f"Welcome, {user.username}: you are the first admin.", "success")
    return redirect(url_for("overview.index"))


@bp.before_app_request
def redirect_until_setup() -> Response | None:
    """Before each request: while no user exists, every page leads to the setup explanation.

    Public views (no @role_required: login, setup, static files, health) stay reachable; the
    API answers 401 in JSON by itself.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    if request.blueprint == "api" or not hasattr(view, "required_role"):
        return None
    if setup.users_exist():
        return None
    setup.ensure_announced(base_url())
    target = url_for("auth.login")
    if request.htmx:
        return Response(status=401, headers={"HX-Redirect": target})
    return redirect(target)
