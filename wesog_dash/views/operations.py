"""Operations: the list, one operation, their polled fragments, tracking and importing.

Every fragment here reads the database only: the poller is the one caller of GET /ops/{op_id}.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import operations
from ..accounts.permissions import role_required
from ..config import settings
from ..models import FINAL_OP_STATES, Operation, utcnow
from ..poller import pace_shown, pause_shown
from ..poller.discovery import import_from_api
from ..upstream import UpstreamProblem
from .common import (
    int_arg,
    no_store,
    nothing_changed,
    polled,
    render_fragment_or_page,
    unchanged,
    wants_fragment,
)
from .forms import OpsFilterForm, TrackForm, UntrackForm
from .idle import answers_idle, list_unchanged, list_version, remembered
from .live import deletion_live_context, finished_toast, toast_ended_since

bp = Blueprint("ops", __name__)

PER_PAGE = 25


def seconds_since(moment: datetime | None) -> int:
    """Whole seconds from `moment` to now (0 when unknown)."""
    return max(0, int((utcnow() - moment).total_seconds())) if moment else 0


@bp.app_context_processor
def ops_context() -> dict[str, Any]:
    """Template helpers: progress of an operation, ages, the final states."""
    return {
        "op_progress": operations.progress,
        "seconds_since": seconds_since,
        "final_op_states": FINAL_OP_STATES,
        "freshness": freshness,
    }


def freshness(row: Operation) -> dict[str, Any]:
    """Why an unfinished operation's data may lag: a pause the API asked for, or the budget."""
    interval = settings().poll_interval
    behind = seconds_since(row.last_polled_at) if row.last_polled_at else 0
    return {
        # Read through this process's short memory: a polled progress fragment would otherwise
        # pay a database round trip per poll for a pause that changes a few times a day.
        "pause_until": None if row.is_finished else remembered(pause_shown),
        "slow": not row.is_finished and behind > max(3 * interval, 3),
        "behind": behind,
        "budget": settings().max_calls_per_second,
    }


def find_op(op_id: int) -> Operation:
    """The stored operation, or a 404 page."""
    row = operations.load_operation(op_id)
    if row is None:
        abort(404, description=f"This console does not know operation #{op_id}. Track it first.")
    return row


def toast_when_final(response: Response, row: Operation) -> Response:
    """A polled fragment that comes back finished announces it: that poll is the transition."""
    if not wants_fragment() or row.state not in FINAL_OP_STATES:
        return response
    return finished_toast(response, row)


def op_list_context(token: str) -> dict[str, Any]:
    """What the operations table draws: the filtered page, its filters and its version."""
    form = OpsFilterForm(formdata=request.args)
    filters, problems = form.to_filters()
    page = operations.load_operations(filters, int_arg("page", 1, 1, 100_000), PER_PAGE)
    args = {k: v for k, v in request.args.items() if k not in ("page", "v") and v}
    return {
        "ops_page": page,
        "filters": filters,
        "problems": problems,
        "args": args,
        "form": form,
        "version": token,
    }


@bp.get("/ops")
@role_required("viewer")
def op_list() -> ResponseReturnValue:
    """Every operation we know, newest first, filtered and paginated."""
    context = op_list_context(list_version("ops", operations.operations_marker))
    body = render_fragment_or_page(
        "operations/ops.html",
        "operations/_op_table.html",
        track_form=TrackForm(),
        pace=pace_shown(),
        **context,
    )
    return body


@bp.get("/ops/list")
@answers_idle(list_unchanged("ops", operations.operations_marker))
@polled
@role_required("viewer")
def op_list_live() -> ResponseReturnValue:
    """The table of /ops, polled: 204 (swap nothing) while no operation changed."""
    token = list_version("ops", operations.operations_marker)
    if unchanged(token):
        return nothing_changed()
    body = render_template("operations/_op_table.html", **op_list_context(token))
    return toast_ended_since(no_store(body))


@bp.get("/ops/<int(signed=True):op_id>/row")
@polled
@role_required("viewer")
def op_row(op_id: int) -> ResponseReturnValue:
    """One row of the operations table (polled while the operation runs)."""
    row = find_op(op_id)
    response = toast_when_final(no_store(render_template("operations/_op_row.html", op=row)), row)
    operations.mark_viewed([op_id])
    return response


@bp.get("/ops/<int(signed=True):op_id>")
@role_required("viewer")
def op_detail(op_id: int) -> ResponseReturnValue:
    """One operation: big progress, timeline, options, errors, its deletion, raw JSON."""
    row = find_op(op_id)
    error_q = request.args.get("error_q", "").strip()
    live = deletion_live_context(row.deletion) if row.deletion is not None else {}
    return render_template(
        "operations/op_detail.html",
        op=row,
        error_q=error_q,
        errors=filter_errors(row, error_q),
        untrack_form=UntrackForm(),
        **live,
    )


@bp.get("/ops/<int(signed=True):op_id>/progress")
@polled
@role_required("viewer")
def op_progress(op_id: int) -> ResponseReturnValue:
    """The live part of the operation page (polled while the operation runs)."""
    row = find_op(op_id)
    response = toast_when_final(
        no_store(render_template("operations/_op_progress.html", op=row)), row
    )
    operations.mark_viewed([op_id])  # watched: refreshed before the others
    return response


def filter_errors(row: Operation, error_q: str) -> list[dict[str, Any]]:
    """The operation's errors whose id or message contains `error_q` (case-insensitive)."""
    needle = error_q.casefold()
    errors = row.errors or []
    if not needle:
        return list(errors)
    return [
        e
        for e in errors
        if needle in str(e.get("id", "")).casefold() or needle in str(e.get("msg", "")).casefold()
    ]


@bp.get("/ops/<int(signed=True):op_id>/errors")
@polled
@role_required("viewer")
def op_errors(op_id: int) -> ResponseReturnValue:
    """The errors list of one operation, filtered by `error_q` (polled while it runs)."""
    row = find_op(op_id)
    error_q = request.args.get("error_q", "").strip()
    body = render_template(
        "operations/_op_errors.html", op=row, error_q=error_q, errors=filter_errors(row, error_q)
    )
    return no_store(body)


@bp.get("/ops/running")
@polled
@role_required("viewer")
def running_count() -> ResponseReturnValue:
    """The nav badge: how many operations are running (polled on every page)."""
    return no_store(render_template("shared/_running_count.html", count=operations.running_count()))


@bp.post("/ops/track")
@role_required("operator")
def op_track() -> Response:
    """Start watching an operation created elsewhere."""
    form = TrackForm()
    try:
        if not form.validate():
            raise operations.TrackError(next(iter(form.errors.values()))[0])
        row = operations.track(form.op_id.data, actor=current_user.username)
    except operations.TrackError as exc:
        flash(exc.message, "error")
        return redirect(url_for("ops.op_list"), 303)
    flash(
        f"Tracking operation #{row.op_id}; its progress appears as the poller fetches it.", "info"
    )
    return redirect(url_for("ops.op_detail", op_id=row.op_id), 303)


@bp.post("/ops/<int:op_id>/untrack")
@role_required("operator")
def op_untrack(op_id: int) -> Response:
    """Stop watching an operation tracked or imported by hand (audited)."""
    form = UntrackForm()
    try:
        if not form.validate():
            raise operations.TrackError("The form expired; reload the page and try again")
        operations.untrack(op_id, actor=current_user.username)
    except operations.TrackError as exc:
        flash(exc.message, "error")
        return redirect(url_for("ops.op_detail", op_id=op_id), 303)
    flash(f"Operation #{op_id} is no longer tracked.", "info")
    return redirect(url_for("ops.op_list"), 303)


@bp.post("/ops/import")
@role_required("operator")
def op_import() -> Response:
    """Record every operation the API lists (GET /ops)."""
    try:
        new = import_from_api(actor=current_user.username)
    except UpstreamProblem as exc:
        flash(exc.message, "error")
        return redirect(url_for("ops.op_list"), 303)
    plural = "" if new == 1 else "s"
    flash(f"Imported {new} new operation{plural} from the Wesog API.", "info")
    return redirect(url_for("ops.op_list"), 303)
