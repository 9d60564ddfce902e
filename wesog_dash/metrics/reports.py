"""Per-day reports for compliance: deletions requested, images deleted and failed, by whom, why.

Days are UTC days, both ends included. Deletion numbers are counted on the day the request was
made (who asked and why belong to the request); operation numbers come from the day rollups.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from ..audit.export import neutralise
from ..extensions import db
from ..models import DeletionItem, DeletionRequest, day_start, parse_day
from ..models.metrics import metric_days
from .periods import epoch_minute
from .requests import minute_of

MAX_DAYS = 366
# Every item outcome, so that a row's images add up to its images requested: "not_sent" (never
# handed to the API) and "cancelled" (cancelled upstream before it ran) are neither good nor bad.
OUTCOMES = (
    "deleted",
    "not_found",
    "failed",
    "not_sent",
    "cancelled",
    "pending",
    "sending",
    "unknown",
)
# Every request is counted once: in its final state's column, or in "other_states" while live.
STATES = ("done", "done_with_errors", "rejected", "cancelled", "stopped")
DAY_COLUMNS = (
    "day",
    "deletions_requested",
    *STATES,
    "other_states",
    "images_requested",
    *(f"images_{o}" for o in OUTCOMES),
    "operations_finished",
    "operation_items_good",
    "operation_items_failed",
)
DETAIL_COLUMNS = ("day", "actor", "reason", "requests", "images", *OUTCOMES)


@dataclass(frozen=True)
class DayRange:
    """From `start` to `end` (UTC days, inclusive), and what was wrong with the input."""

    start: date
    end: date
    errors: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args: Mapping[str, str], today: date) -> DayRange:
        """Read ?from=&to= (YYYY-MM-DD); the default is this month so far."""
        errors: list[str] = []
        start = parse_day(args.get("from"), "From", errors) or today.replace(day=1)
        end = parse_day(args.get("to"), "To", errors) or today
        if end < start:
            errors.append("The end is before the start; showing the start day only.")
            end = start
        if (end - start).days >= MAX_DAYS:
            errors.append(f"At most {MAX_DAYS} days at a time; the end was moved.")
            end = start + timedelta(days=MAX_DAYS - 1)
        return cls(start, end, tuple(errors))

    @property
    def days(self) -> list[date]:
        """Every day of the range."""
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def bounds(self) -> tuple[datetime, datetime]:
        """Start of the first day and start of the day after the last, UTC."""
        return day_start(self.start), day_start(self.end + timedelta(days=1))


@dataclass
class DayCounts:
    """The numbers of one day."""

    day: date
    values: dict[str, int] = field(default_factory=dict)

    def row(self) -> list[object]:
        """The CSV row, in DAY_COLUMNS order."""
        return [self.day.isoformat(), *(self.values.get(c, 0) for c in DAY_COLUMNS[1:])]


def _day_index(column: Any, first: datetime) -> Any:
    return (minute_of(column) - epoch_minute(first)) // 1440


def days_report(days: DayRange) -> list[DayCounts]:
    """Counters per day of the range."""
    first, after = days.bounds()
    found = {n: DayCounts(day) for n, day in enumerate(days.days)}
    r, i = DeletionRequest, DeletionItem
    in_range = (r.created_at >= first, r.created_at < after)
    day = _day_index(r.created_at, first)
    by_state = select(day, r.state, func.count(), func.sum(r.item_count)).where(*in_range)
    for n, state, count, images in db.session.execute(by_state.group_by(day, r.state)):
        values = found[int(n)].values
        name = state if state in STATES else "other_states"
        values[name] = values.get(name, 0) + count
        values["deletions_requested"] = values.get("deletions_requested", 0) + count
        values["images_requested"] = values.get("images_requested", 0) + int(images or 0)
    items = select(day, i.outcome, func.count()).join(r, r.id == i.deletion_id).where(*in_range)
    for n, outcome, count in db.session.execute(items.group_by(day, i.outcome)):
        found[int(n)].values[f"images_{outcome}"] = count
    _add_operations(found, first, after)
    return list(found.values())


def _add_operations(found: dict[int, DayCounts], first: datetime, after: datetime) -> None:
    t = metric_days.c
    first_day, after_day = epoch_minute(first) // 1440, epoch_minute(after) // 1440
    query = (
        select(t.day, func.sum(t.ops_finished), func.sum(t.items_good), func.sum(t.items_bad))
        .where(t.day >= first_day, t.day < after_day)
        .group_by(t.day)
    )
    for day, ops, good, bad in db.session.execute(query):
        values = found[int(day) - first_day].values
        values["operations_finished"] = int(ops or 0)
        values["operation_items_good"], values["operation_items_failed"] = int(good), int(bad)


def detail_report(days: DayRange) -> list[list[object]]:
    """Per day, person and reason: requests (each counted once), images, and the images'
    outcomes (they add up to the images)."""
    first, after = days.bounds()
    r, i = DeletionRequest, DeletionItem
    day = _day_index(r.created_at, first)
    in_range = (r.created_at >= first, r.created_at < after)
    rows: dict[tuple[int, str, str], dict[str, int]] = {}
    requests = select(day, r.actor, r.reason, func.count()).where(*in_range)
    for n, actor, reason, count in db.session.execute(requests.group_by(day, r.actor, r.reason)):
        rows[(int(n), actor, reason)] = {"requests": int(count), "images": 0}
    items = (
        select(day, r.actor, r.reason, i.outcome, func.count(i.id))
        .join(i, i.deletion_id == r.id)
        .where(*in_range)
        .group_by(day, r.actor, r.reason, i.outcome)
    )
    for n, actor, reason, outcome, images in db.session.execute(items):
        row = rows.setdefault((int(n), actor, reason), {"requests": 0, "images": 0})
        row[outcome] = row.get(outcome, 0) + images
        row["images"] += images
    return [
        [days.start + timedelta(days=n), actor, reason, *(v.get(c, 0) for c in DETAIL_COLUMNS[3:])]
        for (n, actor, reason), v in sorted(rows.items())
    ]


def to_csv(header: tuple[str, ...], rows: list[list[object]]) -> str:
    """A CSV text, cells that a spreadsheet would run as formulas neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(str(cell)) if isinstance(cell, str) else cell for cell in row])
    return out.getvalue()
