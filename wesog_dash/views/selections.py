"""Confirming a big deletion: a stored list of ids (a search resolved in the background, or a
long pasted or uploaded list), drawn as counts, a hash and its first ids, never all of them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from htmx_flask import make_response as htmx_response

from .. import deletions, images
from ..accounts.permissions import destructive, role_required
from ..models import IdSelection
from .common import no_store, polled
from .forms import DeleteForm

bp = Blueprint("selections", __name__)

MAX_SHOWN = 200  # ids drawn on the confirmation page; the rest are counted


def find_selection(selection_id: int) -> IdSelection:
    """The selection, or a 404 page."""
    selection = deletions.get_selection(selection_id)
    if selection is None:
        abort(404, description=f"There is no list of ids #{selection_id}.")
    return selection


def selection_context(
    selection: IdSelection,
    message: str | None = None,
    form: DeleteForm | None = None,
    look: bool = False,
) -> dict[str, Any]:
    """What the confirmation of a stored list draws (the delete form as typed, or empty); with
    `look` (a page, never a polled fragment), the first ids' thumbnails and titles."""
    ready = selection.state == "ready"
    preview = deletions.preview(selection.id, MAX_SHOWN) if ready else []
    return {
        "selection": selection,
        "preview": preview,
        "lookup": images.look_up(preview) if look and preview else None,
        "lookup_limit": images.LOOKUP_LIMIT,
        "message": message,
        "form": form if form is not None else DeleteForm(formdata=None),
    }


def selection_page(selection: IdSelection, message: str | None, form: DeleteForm) -> Any:
    """The confirmation page again, with what was wrong (422)."""
    context = selection_context(selection, message, form, look=True)
    return render_template("deletions/deletion_selection.html", **context)


@bp.get("/selections/<int:selection_id>")
@role_required("operator")
@destructive
def selection_detail(selection_id: int) -> ResponseReturnValue:
    """Confirm a stored list of ids: its progress while a search resolves, then the form."""
    selection = find_selection(selection_id)
    context = selection_context(selection, look=True)
    return render_template("deletions/deletion_selection.html", **context)


@bp.get("/selections/<int:selection_id>/live")
@polled
@role_required("operator")
@destructive
def selection_live(selection_id: int) -> ResponseReturnValue:
    """The polled part of that page, from the database (the poller does the searching)."""
    selection = find_selection(selection_id)
    response = no_store(
        render_template("deletions/_selection.html", **selection_context(selection))
    )
    # Ready: the page is opened again, once, to show the first images (a poll never asks the API).
    return htmx_response(response, refresh=True) if selection.state == "ready" else response
