"""Logging in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from .. import accounts, audit
from ..extensions import db, login_manager

bp = Blueprint("auth", __name__)
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to use the console."


def safe_next(target: str | None) -> str:
    """Only local paths are followed after login; anything else goes to the overview."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") and "\\" not in target:
            return target
    return url_for("overview.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """Show the login form, or log in."""
    error = None
    if request.method == "POST":
        username = request.form.get("username", "")
        user = accounts.authenticate(username, request.form.get("password", ""))
        if user is not None:
            login_user(user)
            accounts.note_login(user)
            audit.record("login.succeeded", actor=user.username)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
        audit.record("login.failed", actor=f"anonymous", details={"username": username[:64]})
        db.session.commit()
        error = "Wrong username or password."
        return render_template("login.html", error=error), 401
    return render_template("login.html", error=error)


@bp.post("/logout")
def logout() -> Response:
    """Log out (POST only, with CSRF)."""
    logout_user()
    return redirect(url_for("auth.login"))
