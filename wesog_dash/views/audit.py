"""The audit area: the log with its chain verdict, exports, and one image's history."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from .. import deletions
from ..accounts.permissions import role_required
from ..audit import export as audit_export
from ..audit import queries as audit_queries
from ..audit.history import image_history as gather_history
from ..audit.queries import AuditFilters
from ..audit.verdict import current_verdict
from . import display
from .common import attachment, int_arg_or_none, no_store, polled
from .forms import AuditFilterForm, SelectChoice, choices

bp = Blueprint("audit", __name__)


def deletion_url(deletion_id: int) -> str:
    """Where one deletion request is shown."""
    return url_for("deletions.deletion_detail", deletion_id=deletion_id)


def op_url(op_id: int) -> str:
    """Where one operation is shown."""
    return url_for("ops.op_detail", op_id=op_id)


def history_url(image_id: str | None) -> str | None:
    """The history page of an image id, if the id can travel as one path segment."""
    if not image_id or deletions.id_problem(image_id):
        return None
    return url_for("audit.image_history", image_id=image_id)


@bp.context_processor
def audit_links() -> dict[str, Callable[..., Any]]:
    """Link builders for the audit templates."""
    return {"deletion_url": deletion_url, "op_url": op_url, "history_url": history_url}


def filter_form(filters: AuditFilters) -> AuditFilterForm:
    """The filter form with its choices: actors the console knows, actions and outcomes in
    words (a value from a link that is not among them stays selectable)."""
    form = AuditFilterForm(formdata=request.args)
    actors = audit_queries.actor_suggestions()
    form.actor.choices = choices(((a, a) for a in actors), "anyone")
    actions = (*audit_queries.ACTION_GROUPS, *audit_queries.ACTIONS)
    form.action.choices = choices(((a, display.action_word(a)) for a in actions), "any")
    outcomes = ((o, display.word(o)) for o in audit_queries.OUTCOMES)
    form.outcome.choices = choices(outcomes, "any")
    for field, value in (
        (form.actor, filters.actor),
        (form.action, filters.action),
        (form.outcome, filters.outcome),
    ):
        if value and value not in {choice.value for choice in field.choices}:
            field.choices.append(SelectChoice(value, value))
    return form


@bp.get("/audit")
@role_required("viewer")
def audit_log() -> str:
    """The audit log, newest first, filtered, a keyset page at a time, under the chain verdict.

    By default successful logins are left out (`view=all` shows them): they drown the
    deletions, admin actions and failed logins people come here for.
    """
    filters = AuditFilters.from_args(request.args)
    everything = request.args.get("view") == "all"
    shown = replace(filters, hide_logins=not everything)
    before, after = int_arg_or_none("before"), int_arg_or_none("after")
    args = {**filters.to_args(), **({"view": "all"} if everything else {})}
    return render_template(
        "audit/audit.html",
        filters=filters,
        args=args,
        export_args=filters.to_args(),
        everything=everything,
        form=filter_form(filters),
        page=audit_queries.page(shown, before=before, after=after),
        paged=before is not None or after is not None,
        verdict=current_verdict(),
    )


@bp.get("/audit/verdict")
@polled
@role_required("viewer")
def audit_verdict() -> Response:
    """The chain verdict fragment (polled while a walk of the chain is under way)."""
    return no_store(render_template("audit/_audit_verdict.html", verdict=current_verdict()))


def _download(chunks: Iterator[str], content_type: str, extension: str) -> Response:
    """A streamed attachment with a dated filename."""
    return attachment(chunks, audit_export.filename(extension), content_type)


@bp.get("/audit/export.csv")
@role_required("viewer")
def export_csv() -> Response:
    """Every event matching the filters, as CSV (formula cells neutralised)."""
    filters = AuditFilters.from_args(request.args)
    return _download(audit_export.csv_chunks(filters), "text/csv; charset=utf-8", "csv")


@bp.get("/audit/export.jsonl")
@role_required("viewer")
def export_jsonl() -> Response:
    """Every event matching the filters, one JSON object per line."""
    filters = AuditFilters.from_args(request.args)
    return _download(audit_export.jsonl_chunks(filters), "application/x-ndjson", "jsonl")


@bp.get("/images/<image_id>/history")
@role_required("viewer")
def image_history(image_id: str) -> str:
    """Everything that happened to one image id, ending with one sentence that sums it up."""
    kept = [
        (snapshot, deletions.restore_problem(snapshot))
        for snapshot in deletions.snapshots_of(image_id)
    ]
    return render_template("audit/image_history.html", history=gather_history(image_id), kept=kept)
