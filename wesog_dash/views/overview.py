"""The overview page."""

from __future__ import annotations

from flask import Blueprint, render_template

from .. import deletions
from ..permissions import role_required

bp = Blueprint("overview", __name__)


@bp.get("/")
@role_required("viewer")
def index() -> str:
    """The landing page: where the console points and what is going on."""
    return render_template("index.html", recent_deletions=deletions.recent_deletions(8))


@bp.get("/healthz")
def health() -> tuple[dict[str, str], int]:
    """Liveness for load balancers: no database, no upstream, no login."""
    return {"status": "ok"}, 200
