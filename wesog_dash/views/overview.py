"""The overview page."""

from __future__ import annotations

from flask import Blueprint, render_template

from .. import deletions, operations
from ..accounts.permissions import role_required

bp = Blueprint("overview", __name__)


@bp.get("/")
@role_required("viewer")
def index() -> str:
    """The landing page: where the console points and what is going on."""
    running = operations.list_operations(operations.OpFilters(state="running"), 1, per_page=8)
    return render_template(
        "index.html", recent_deletions=deletions.recent_deletions(8), running=running
    )


@bp.get("/healthz")
def health() -> tuple[dict[str, str], int]:
    """Liveness for load balancers: no database, no upstream, no login."""
    return {"status": "ok"}, 200
