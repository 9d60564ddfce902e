"""Confirming a big deletion: a stored list of ids (a search resolved in the background, or a
long pasted or uploaded list), drawn as counts, a hash and its first ids, never all of them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from .. import deletions
from ..accounts.permissions import destructive, role_required
from ..models import IdSelection
from .common import no_store, polled

bp = Blueprint("selections", __name__)

MAX_SHOWN = 200  # ids drawn on the confirmation page; the rest are counted


def find_selection(selection_id: int) -> IdSelection:
    """The selection, or a 404 page."""
    selection = deletions.get_selection(selection_id)
    if selection is None:
        abort(404, description=f"There is no list of ids #{selection_id}.")
    return selection


def selection_context(
    selection: IdSelection, message: str | None = None, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What the confirmation of a stored list draws."""
    ready = selection.state == "ready"
    return {
        "selection": selection,
        "preview": deletions.preview(selection.id, MAX_SHOWN) if ready else [],
        "message": message,
        "values": values or {},
    }


def selection_page(selection: IdSelection, message: str | None, values: dict[str, Any]) -> Any:
    """The confirmation page again, with what was wrong (422)."""
    return render_template(
        "deletion_selection.html", **selection_context(selection, message, values)
    )


@bp.get("/selections/<int:selection_id>")
@role_required("operator")
@destructive
def selection_detail(selection_id: int) -> ResponseReturnValue:
    """Confirm a stored list of ids: its progress while a search resolves, then the form."""
    selection = find_selection(selection_id)
    return render_template("deletion_selection.html", **selection_context(selection))


@bp.get("/selections/<int:selection_id>/live")
@polled
@role_required("operator")
@destructive
def selection_live(selection_id: int) -> ResponseReturnValue:
    """The polled part of that page, from the database (the poller does the searching)."""
    selection = find_selection(selection_id)
    return no_store(render_template("_selection.html", **selection_context(selection)))
