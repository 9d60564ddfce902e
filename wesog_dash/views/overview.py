"""The overview page: counters and charts of a period, the realtime chart, health."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import alerts, deletions, metrics, operations, signals
from ..accounts.permissions import can, role_required
from ..models import utcnow
from . import display
from .common import no_store, polled

bp = Blueprint("overview", __name__)


@bp.get("/")
@role_required("viewer")
def index() -> str:
    """The landing page: counters and charts of the chosen period, what runs now."""
    period = metrics.period_named(request.args.get("period"))
    now = utcnow()
    running = operations.list_operations(operations.OpFilters(state="running"), 1, per_page=8)
    view = metrics.overview(period, now)
    return render_template(
        "index.html",
        recent_deletions=deletions.recent_deletions(8),
        running=running,
        period=period,
        periods=metrics.PERIODS,
        view=view,
        # Each bucket's <time> is drawn once and reused by the three tables that list buckets.
        bucket_times=[display.local_time(bucket.at) for bucket in view.buckets],
        rt=metrics.realtime(now),
        alert_target=alerts.target_host(),
        recent_alerts=alerts.recent() if can("admin") else [],
    )


@bp.post("/alerts/test")
@role_required("admin")
def alert_test() -> Response:
    """Queue a test alert; the poller delivers it within a cycle (audited)."""
    if not alerts.enabled():
        flash("Alerts are off: set WESOG_ALERT_URL (and WESOG_ALERT_SECRET) first.", "error")
        return redirect(url_for("overview.index", _anchor="alerts"), 303)
    alert = alerts.queue_test(current_user.username)
    signals.wake()
    flash(f"Test alert #{alert.id} queued; the poller sends it to {alerts.target_host()}.", "info")
    return redirect(url_for("overview.index", _anchor="alerts"), 303)


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
