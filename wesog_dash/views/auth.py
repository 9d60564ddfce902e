"""Logging in and out, and the first-run setup form."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from .. import accounts
from ..accounts import first_run as setup
from ..extensions import limiter, login_manager
from ..models import User
from .forms import SetupForm

bp = Blueprint("auth", __name__)
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to use the console."
logger = logging.getLogger("wesog_dash")

RATE_LIMITED = (
    "Too many failed logins from your address or for this username. Wait a little and try again."
)


def safe_next(target: str | None) -> str:
    """Only local paths are followed after login; anything else goes to the overview."""
    if target:
        parts = urlsplit(target)
        local = target.startswith("/") and not target.startswith("//") and "\\" not in target
        if local and not parts.scheme and not parts.netloc:
            return target
    return url_for("overview.index")


def login_limit() -> str:
    """The configured limit, e.g. '10 per minute' (read per request so tests can change it)."""
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def username_key() -> str:
    """Rate-limit key for the username being tried, whatever address it comes from."""
    return "username:" + request.form.get("username", "").strip().lower()[:64]


def failed(response: Response) -> bool:
    """Only failed attempts count against the limits."""
    return response.status_code == 401


def start_session(user: User, *, audited: bool = True) -> None:
    """Log `user` in on a fresh session (new CSRF token) and record the login."""
    session.clear()
    login_user(user)
    session.permanent = True
    accounts.record_login(user, audited=audited)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"], deduct_when=failed, error_message=RATE_LIMITED)
@limiter.limit(
    login_limit,
    key_func=username_key,
    methods=["POST"],
    deduct_when=failed,
    error_message=RATE_LIMITED,
)
def login() -> str | Response | tuple[str, int]:
    """Show the login form, or log in (while no user exists: explain how to set up)."""
    if not setup.users_exist():
        setup.ensure_announced(request.host_url)
        return render_template("setup_needed.html")
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next(request.args.get("next")))
        return render_template("login.html")
    username = request.form.get("username", "")
    user = accounts.authenticate(username, request.form.get("password", ""))
    if user is None:
        accounts.record_failed_login(username)
        return render_template("login.html", error="Wrong username or password."), 401
    start_session(user)
    return redirect(safe_next(request.args.get("next")))


@bp.errorhandler(RateLimitExceeded)
def login_rate_limited(error: RateLimitExceeded) -> tuple[str, int, dict[str, str]]:
    """A clear message (and Retry-After) instead of a bare 429."""
    current = limiter.current_limit
    wait = max(1, int(current.reset_at - time.time())) if current else 60
    logger.warning("Login rate limit reached (address %s).", request.remote_addr)
    message = f"{RATE_LIMITED} You can try again in {wait} seconds."
    return render_template("login.html", error=message), 429, {"Retry-After": str(wait)}


@bp.post("/logout")
def logout() -> Response:
    """Log out (POST only, with CSRF)."""
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
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
        return render_template("setup.html", invalid=str(error), form=SetupForm()), 404
    form = SetupForm()
    if request.method == "GET":
        return render_template("setup.html", form=form)
    if not form.validate():
        return render_template("setup.html", form=form, error=form.first_error), 400
    try:
        user = setup.complete_setup(token, form.username.data or "", form.password.data or "")
    except (accounts.AccountError, setup.SetupError) as error:
        return render_template("setup.html", form=form, error=str(error)), 400
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
    setup.ensure_announced(request.host_url)
    target = url_for("auth.login")
    if request.htmx:
        return Response(status=401, headers={"HX-Redirect": target})
    return redirect(target)
