"""Reports: counters per day over a chosen range, on the page and as CSV downloads."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from ..accounts.permissions import role_required
from ..metrics import reports
from ..models import utcnow
from .common import attachment

bp = Blueprint("reports", __name__)


def chosen_range() -> reports.DayRange:
    """The ?from=&to= range (UTC days), this month so far by default."""
    return reports.DayRange.from_args(request.args, utcnow().date())


@bp.get("/reports")
@role_required("viewer")
def report_page() -> str:
    """Per-day counters and the per-person, per-reason breakdown of a range of days."""
    days = chosen_range()
    day_rows = reports.days_report(days)
    totals = {
        name: sum(int(row.values.get(name, 0)) for row in day_rows)
        for name in reports.DAY_COLUMNS[1:]
    }
    return render_template(
        "reports/reports.html",
        days=days,
        day_rows=day_rows,
        totals=totals,
        detail=reports.detail_report(days),
        day_columns=reports.DAY_COLUMNS,
        detail_columns=reports.DETAIL_COLUMNS,
    )


def _csv(name: str, text: str, days: reports.DayRange) -> Response:
    return attachment(text, f"wesog-{name}-{days.start.isoformat()}-{days.end.isoformat()}.csv")


@bp.get("/reports/days.csv")
@role_required("viewer")
def days_csv() -> Response:
    """The per-day counters of the range as CSV."""
    days = chosen_range()
    rows = [row.row() for row in reports.days_report(days)]
    return _csv("days", reports.to_csv(reports.DAY_COLUMNS, rows), days)


@bp.get("/reports/deletions.csv")
@role_required("viewer")
def deletions_csv() -> Response:
    """Per day, person and reason: requests, images and their outcomes, as CSV."""
    days = chosen_range()
    return _csv(
        "deletions", reports.to_csv(reports.DETAIL_COLUMNS, reports.detail_report(days)), days
    )
