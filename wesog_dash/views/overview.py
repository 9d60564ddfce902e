"""The overview page: counters and charts of a period, the realtime chart, health."""

from __future__ import annotations

from flask import Blueprint, make_response, render_template, request
from flask.typing import ResponseReturnValue

from .. import deletions, metrics, operations
from ..accounts.permissions import role_required
from ..models import utcnow
from .common import no_store, polled

bp = Blueprint("overview", __name__)


@bp.get("/")
@role_required("viewer")
def index() -> str:
    """The landing page: counters and charts of the chosen period, what runs now."""
    period = metrics.period_named(request.args.get("period"))
    now = utcnow()
    running = operations.list_operations(operations.OpFilters(state="running"), 1, per_page=8)
    return render_template(
        "index.html",
        recent_deletions=deletions.recent_deletions(8),
        running=running,
        period=period,
        periods=metrics.PERIODS,
        view=metrics.overview(period, now),
        rt=metrics.realtime(now),
    )


@bp.get("/overview/realtime")
@polled
@role_required("viewer")
def realtime() -> ResponseReturnValue:
    """The realtime chart (polled): 204 and nothing to swap when its version is unchanged."""
    rt = metrics.realtime(utcnow())
    if request.args.get("v") == rt.version:
        response = make_response("", 204)
        response.headers["Cache-Control"] = "no-store"
        return response
    return no_store(render_template("_realtime.html", rt=rt))


@bp.get("/healthz")
def health() -> tuple[dict[str, str], int]:
    """Liveness for load balancers: no database, no upstream, no login."""
    return {"status": "ok"}, 200
