"""Admin pages for console users: list, create, change a role, disable.

None of these views is @destructive: the read-only switch (WESOG_READ_ONLY) protects the
images in the Wesog tenant, and managing who may use the console deletes nothing there, so
admins must still be able to lock an account out while the console is read-only.
API tokens are issued on their own page (`views/tokens.py`: the secret shown once, in a
no-store answer to the POST) or with `flask --app app users token NAME`. This page lists
tokens (never their secrets) and revokes them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import accounts
from ..accounts import sessions, tokens
from ..accounts.permissions import role_required
from ..models import ROLES, User
from .forms import NewUserForm, RoleForm
from .proxies import untrusted_forwarding
from .tokens import SCOPE_WORDS

bp = Blueprint("users", __name__, url_prefix="/admin/users")


def page(status: int = 200, **context: Any) -> tuple[str, int]:
    """The users page, with the create form (as typed, passwords never) and its message."""
    context.setdefault("form", NewUserForm(formdata=None))
    context.setdefault("create_error", None)
    html = render_template(
        "admin/users.html",
        users=accounts.list_users(),
        role_form=RoleForm(formdata=None),
        api_tokens=tokens.all_tokens(),
        token_status=tokens.token_status,
        scope_words=SCOPE_WORDS,
        roles=ROLES,
        me=current_user.id,
        min_password=accounts.MIN_PASSWORD_LENGTH,
        proxy_notice=untrusted_forwarding(current_app),
        **context,
    )
    return html, status


def user_or_404(user_id: int) -> User:
    """The user with this id (active or disabled), else 404."""
    user = accounts.user_by_id(user_id)
    if user is None:
        abort(404, description="There is no such user.")
    return user


def back_to_list() -> Response:
    """Post/redirect/get back to the list (303: the browser follows with a GET)."""
    return redirect(url_for("users.user_list"), code=303)


@bp.get("")
@role_required("admin")
def user_list() -> tuple[str, int]:
    """Every user with role, status and last login, and the forms that manage them."""
    return page()


@bp.post("")
@role_required("admin")
def user_create() -> Response | tuple[str, int]:
    """Create a user; on bad input show the page again with what was typed (not passwords)."""
    form = NewUserForm()
    if not form.validate():
        return page(422, form=form, create_error=form.first_error)
    try:
        user = accounts.create_user(
            form.username.data or "",
            form.password.data or "",
            form.role.data or "",
            actor=current_user.username,
        )
    except accounts.AccountError as error:
        return page(422, form=form, create_error=str(error))
    flash(f"Created {user.username} ({user.role}).", "success")
    return back_to_list()


def apply_change(change: Callable[[], object], done: str) -> Response:
    """Run one accounts change; flash its refusal (AccountError) or `done`, back to the list."""
    try:
        change()
    except accounts.AccountError as error:
        flash(str(error), "error")
    else:
        flash(done, "success")
    return back_to_list()


@bp.post("/<int:user_id>/role")
@role_required("admin")
def user_set_role(user_id: int) -> Response:
    """Give a user another role; their sessions end, so it applies from their next login."""
    user = user_or_404(user_id)
    role = RoleForm().role.data or ""
    if role == user.role:
        flash(f"{user.username} is already {role}; nothing changed.", "info")
        return back_to_list()
    change = partial(accounts.set_role, user.username, role, actor=current_user.username)
    return apply_change(change, f"{user.username} is now {role}.")


@bp.post("/<int:user_id>/disable")
@role_required("admin")
def user_disable(user_id: int) -> Response:
    """Disable a user: their sessions and API tokens stop working at once."""
    user = user_or_404(user_id)
    if user.disabled:
        flash(f"{user.username} is already disabled.", "info")
        return back_to_list()
    change = partial(accounts.disable_user, user.username, actor=current_user.username)
    return apply_change(
        change, f"{user.username} is disabled; their sessions and API tokens no longer work."
    )


@bp.post("/tokens/<int:token_id>/revoke")
@role_required("admin")
def token_revoke(token_id: int) -> Response:
    """Revoke an API token: it stops working at once (audited)."""
    row = tokens.get_token(token_id)
    if row is None:
        abort(404, description="There is no such token.")
    change = partial(tokens.revoke, token_id, actor=current_user.username)
    return apply_change(change, f"Token {token_id} of {row.user.username} is revoked.")


@bp.post("/<int:user_id>/sessions/end")
@role_required("admin")
def user_end_sessions(user_id: int) -> Response:
    """End every session of a user (their API tokens are not touched)."""
    user = user_or_404(user_id)
    ended = sessions.log_out_everywhere(user, actor=current_user.username)
    plural = "" if ended == 1 else "s"
    flash(f"{user.username} is logged out everywhere ({ended} session{plural} ended).", "success")
    return back_to_list()
