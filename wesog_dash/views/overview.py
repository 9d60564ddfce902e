"""The overview page: counters and charts of a period, the realtime chart, health, and the
live panels (queued and running operations, recent deletions), polled with a version: 204
while nothing changed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import alerts, deletions, metrics, operations, signals
from ..accounts.permissions import can, role_required
from ..models import utcnow
from . import display
from .common import no_store, nothing_changed, polled, unchanged
from .idle import answers_idle, list_unchanged, list_version
from .live import toast_ended_since

bp = Blueprint("overview", __name__)


OVERVIEW_MARKERS = (operations.operations_marker, deletions.deletions_marker)


def overview_token() -> str:
    """The version of the panels: every operation and every deletion request they could show."""
    return list_version("overview", *OVERVIEW_MARKERS)


def panels_context(token: str) -> dict[str, Any]:
    """Queued and running operations (the nav badge's meaning), the latest deletion requests."""
    unfinished = operations.OpFilters(state=operations.UNFINISHED)
    return {
        "running": operations.load_operations(unfinished, 1, per_page=8),
        "recent_deletions": deletions.recent_deletions(8),
        "awaiting_approval": deletions.waiting(20),
        "approval_expiry": deletions.expires_at,
        "version": token,
    }


@bp.get("/overview/live")
@answers_idle(list_unchanged("overview", *OVERVIEW_MARKERS))
@polled
@role_required("viewer")
def overview_live() -> ResponseReturnValue:
    """The overview's live panels, polled: 204 while no operation or deletion changed."""
    token = overview_token()
    if unchanged(token):
        return nothing_changed()
    body = render_template("overview/_overview_panels.html", **panels_context(token))
    return toast_ended_since(no_store(body))


@bp.get("/")
@role_required("viewer")
def index() -> str:
    """The landing page: counters and charts of the chosen period, what runs now."""
    period = metrics.period_named(request.args.get("period"))
    now = utcnow()
    view = metrics.overview(period, now)
    return render_template(
        "overview/index.html",
        **panels_context(overview_token()),
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
    return no_store(render_template("overview/_realtime.html", rt=rt))


@bp.get("/healthz")
def health() -> tuple[dict[str, str], int]:
    """Liveness for load balancers: no database, no upstream, no login."""
    return {"status": "ok"}, 200
