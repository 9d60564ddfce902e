"""Personal API tokens in the browser: operators and admins issue (label, scope, expiry) and
revoke their own; admins also anyone's. The secret is shown once, in the answer to the POST
that made it (never in a redirect, a flash cookie or a log), with a Copy button; only its
hash is kept. Issuing and revoking are audited by the accounts service.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from .. import accounts
from ..accounts import tokens
from ..accounts.permissions import can, role_required
from ..models import ApiToken, User
from .common import no_store
from .forms import OneErrorForm, choices, strip

bp = Blueprint("tokens", __name__, url_prefix="/tokens")

EXPIRY_CHOICES = (
    (7, "7 days"),
    (30, "30 days"),
    (90, "90 days"),
    (180, "180 days"),
    (365, "1 year"),
)
SCOPE_WORDS = {"read": "Read only", "operate": "Read and delete (what the role allows)"}


class TokenForm(OneErrorForm):
    """A new token: what it is for, what it may do, how long it lives, and (admins) whose."""

    label = StringField(
        "What it is for",
        filters=[strip],
        validators=[Optional(), Length(max=tokens.MAX_LABEL)],
        render_kw={"maxlength": tokens.MAX_LABEL, "placeholder": "e.g. nightly cleanup script"},
    )
    scope = SelectField("May", choices=choices(SCOPE_WORDS.items()))
    expires_days = SelectField(
        "Expires after", choices=choices((str(d), w) for d, w in EXPIRY_CHOICES), default="90"
    )
    owner = SelectField("For", choices=[], validate_choice=False)


def owners() -> list[User]:
    """Whose tokens this person may issue: their own, or (admins) any active user's."""
    if can("admin"):
        return [user for user in accounts.list_users() if not user.disabled]
    return [current_user]


def listed() -> list[ApiToken]:
    """The tokens this page lists: everyone's for an admin, one's own otherwise."""
    return tokens.all_tokens() if can("admin") else tokens.tokens_of(current_user)


def page(form: TokenForm, status: int = 200, **context: Any) -> ResponseReturnValue:
    """The tokens page (never cached: it may carry a secret shown once)."""
    form.owner.choices = [(u.username, u.username) for u in owners()]
    if not form.owner.data:
        form.owner.data = current_user.username
    body = render_template(
        "accounts/tokens.html",
        form=form,
        api_tokens=listed(),
        token_status=tokens.token_status,
        scope_words=SCOPE_WORDS,
        issued=context.get("issued"),
        error=context.get("error"),
    )
    return no_store(body, status)


@bp.get("")
@role_required("operator")
def token_list() -> ResponseReturnValue:
    """Your API tokens (everyone's, for an admin) and the form that issues one."""
    return page(TokenForm(formdata=None))


@bp.post("")
@role_required("operator")
def token_create() -> ResponseReturnValue:
    """Issue a token and show its secret once, in this answer only."""
    form = TokenForm()
    form.owner.choices = [(u.username, u.username) for u in owners()]
    if not form.validate():
        return page(form, 422, error=form.first_error)
    wanted = form.owner.data or current_user.username  # only admins are offered a choice
    owner = next((u for u in owners() if u.username == wanted), None)
    if owner is None:
        return page(form, 422, error="Choose whose token it is from the list.")
    try:
        issued = tokens.issue(
            owner,
            actor=current_user.username,
            scope=form.scope.data,
            expires_days=int(form.expires_days.data or tokens.DEFAULT_EXPIRY_DAYS),
            label=form.label.data,
        )
    except (accounts.AccountError, ValueError) as error:
        return page(form, 422, error=str(error))
    return page(TokenForm(formdata=None), 201, issued=issued)


@bp.post("/<int:token_id>/revoke")
@role_required("operator")
def token_revoke(token_id: int) -> ResponseReturnValue:
    """Revoke a token of one's own (an admin: anyone's); it stops working at once."""
    row = tokens.get_token(token_id)
    if row is None:
        abort(404, description="There is no such token.")
    if row.user_id != current_user.id and not can("admin"):
        abort(403, description="Only its owner or an admin may revoke this token.")
    try:
        tokens.revoke(token_id, actor=current_user.username)
    except accounts.AccountError as error:
        flash(str(error), "error")
    else:
        label = f" ({row.label})" if row.label else ""
        flash(f"Token {token_id}{label} of {row.user.username} is revoked.", "success")
    return redirect(url_for("tokens.token_list"), 303)
