"""The list of deletion requests (`GET /deletions`): filters, keyset pages, and the polled
table that answers 204 while no request and no operation changed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from wtforms import SelectField, StringField

from .. import accounts, deletions, operations
from ..accounts.permissions import role_required
from ..deletions.listing import DeletionFilters, deletion_page
from ..models import DELETION_STATES, parse_day
from . import display
from .common import (
    int_arg_or_none,
    no_store,
    nothing_changed,
    polled,
    render_fragment_or_page,
    unchanged,
)
from .forms import GetForm, choices, chosen
from .idle import answers_idle, list_unchanged, list_version

bp = Blueprint("deletion_list", __name__)

PER_PAGE = 25
# A request's state and its operations' progress are both drawn: either changing is news.
LIST_MARKERS = (deletions.deletions_marker, operations.operations_marker)


class DeletionFilterForm(GetForm):
    """Filters of the deletions list."""

    state = SelectField(
        "State", choices=choices(((s, display.word(s)) for s in DELETION_STATES), "any")
    )
    actor = StringField("Person", render_kw={"list": "deletion-actors", "autocomplete": "off"})
    words = StringField("Reason or ticket has", render_kw={"type": "search"})
    created_from = StringField("From", render_kw={"type": "date"})
    created_to = StringField("to", render_kw={"type": "date"})

    def to_filters(self) -> tuple[DeletionFilters, list[str]]:
        """The list's filters; a bad day is ignored and explained."""
        problems: list[str] = []
        filters = DeletionFilters(
            state=chosen(self.state),
            actor=(self.actor.data or "").strip()[:128] or None,
            words=tuple((self.words.data or "").split()),
            created_from=parse_day(self.created_from.data, "From", problems),
            created_to=parse_day(self.created_to.data, "To", problems),
        )
        return filters, problems


def list_context(token: str) -> dict[str, Any]:
    """What the table draws: one keyset page under the filters, and its version."""
    form = DeletionFilterForm(formdata=request.args)
    filters, problems = form.to_filters()
    before, after = int_arg_or_none("before"), int_arg_or_none("after")
    page = deletion_page(filters, PER_PAGE, before=before, after=after)
    args = {k: v for k, v in request.args.items() if k not in ("before", "after", "v") and v}
    return {
        "rows_page": page,
        "form": form,
        "problems": problems,
        "args": args,
        "live_args": {**args, "before": before, "after": after},
        "version": token,
    }


@bp.get("/deletions")
@role_required("viewer")
def deletion_list() -> ResponseReturnValue:
    """Every deletion request, newest first, filtered, in pages."""
    context = list_context(list_version("deletions", *LIST_MARKERS))
    actors = [user.username for user in accounts.list_users()]
    body = render_fragment_or_page(
        "deletions/deletions.html", "deletions/_deletion_table.html", actors=actors, **context
    )
    return body


@bp.get("/deletions/list")
@answers_idle(list_unchanged("deletions", *LIST_MARKERS))
@polled
@role_required("viewer")
def deletion_list_live() -> ResponseReturnValue:
    """The table of /deletions, polled: 204 (swap nothing) while nothing it shows changed."""
    token = list_version("deletions", *LIST_MARKERS)
    if unchanged(token):
        return nothing_changed()
    return no_store(render_template("deletions/_deletion_table.html", **list_context(token)))
