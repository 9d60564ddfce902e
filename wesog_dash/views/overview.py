"""The overview page, and its live panels (polled with a version: 204 while nothing changed)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from .. import deletions, operations
from ..accounts.permissions import role_required
from .common import list_token, no_store, nothing_changed, polled, unchanged
from .live import toast_ended_since

bp = Blueprint("overview", __name__)


def overview_token() -> str:
    """The version of the panels: every operation and every deletion request they could show."""
    return list_token("overview", operations.operations_marker() + deletions.deletions_marker())


def panels_context(token: str) -> dict[str, Any]:
    """Queued and running operations (the nav badge's meaning), the latest deletion requests."""
    unfinished = operations.OpFilters(state=operations.UNFINISHED)
    return {
        "running": operations.list_operations(unfinished, 1, per_page=8),
        "recent_deletions": deletions.recent_deletions(8),
        "version": token,
    }


@bp.get("/")
@role_required("viewer")
def index() -> str:
    """The landing page: where the console points and what is going on."""
    return render_template("index.html", **panels_context(overview_token()))


@bp.get("/overview/live")
@polled
@role_required("viewer")
def overview_live() -> ResponseReturnValue:
    """The overview's panels, polled: 204 while no operation or deletion changed."""
    token = overview_token()
    if unchanged(token):
        return nothing_changed()
    body = render_template("_overview_panels.html", **panels_context(token))
    return toast_ended_since(no_store(body))


@bp.get("/healthz")
def health() -> tuple[dict[str, str], int]:
    """Liveness for load balancers: no database, no upstream, no login."""
    return {"status": "ok"}, 200
