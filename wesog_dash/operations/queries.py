"""Reading operations from the database: filtered pages, one operation, the running count."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, func, select

from ..extensions import db
from ..models import Operation, day_start

MAX_PER_PAGE = 200
# The one meaning of "running" in lists and the nav badge: queued or started and not finished
# (a running one with no progress lately is "stale"). Never fetched ("unknown") is not counted.
UNFINISHED = "unfinished"
UNFINISHED_STATES = ("queued", "running", "stale")


@dataclass(frozen=True)
class OpFilters:
    """Filters of the operations list; None means no filter. Dates are UTC days, inclusive."""

    state: str | None = None
    method: str | None = None
    resource: str | None = None
    origin: str | None = None
    created_from: date | None = None
    created_to: date | None = None


@dataclass(frozen=True)
class OpPage:
    """One page of operations, newest first."""

    rows: list[Operation] = field(default_factory=list)
    page: int = 1
    per_page: int = 25
    total: int = 0

    @property
    def has_prev(self) -> bool:
        """Whether a previous page exists."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """Whether a next page exists."""
        return self.page * self.per_page < self.total

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, -(-self.total // self.per_page))


def _filtered(query: Select[Operation], filters: OpFilters) -> Select[Operation]:
    if filters.state == UNFINISHED:
        query = query.where(Operation.state.in_(UNFINISHED_STATES))
    for name in ("state", "method", "resource", "origin"):
        value = getattr(filters, name)
        if value and not (name == "state" and value == UNFINISHED):
            query = query.where(getattr(Operation, name) == value)
    # Tracked operations not fetched yet have no upstream time: use when we first saw them.
    created = func.coalesce(Operation.created_at, Operation.first_seen_at)
    if filters.created_from:
        query = query.where(created >= day_start(filters.created_from))
    if filters.created_to:
        query = query.where(created < day_start(filters.created_to + timedelta(days=1)))
    return query


def load_operations(filters: OpFilters, page: int, per_page: int = 25) -> OpPage:
    """One page of stored operations matching `filters`, newest (highest op_id) first."""
    page = max(1, int(page))
    per_page = min(MAX_PER_PAGE, max(1, int(per_page)))
    base = _filtered(select(Operation), filters)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = db.session.scalars(
        base.order_by(Operation.op_id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return OpPage(rows=list(rows), page=page, per_page=per_page, total=total)


def load_operation(op_id: int) -> Operation | None:
    """The stored operation row with this upstream id, if we know it (a database read)."""
    return db.session.get(Operation, op_id)


def running_count() -> int:
    """How many known operations have not finished: what the `unfinished` filter lists."""
    query = select(func.count()).where(Operation.state.in_(UNFINISHED_STATES))
    return db.session.scalar(query) or 0


def operations_before(
    filters: OpFilters, before: int | None, limit: int
) -> tuple[list[Operation], int | None]:
    """A keyset page: up to `limit` operations with op_id < `before`, newest first, and the
    `before` of the next page (None when this one is the last)."""
    limit = min(MAX_PER_PAGE, max(1, int(limit)))
    query = _filtered(select(Operation), filters)
    if before is not None:
        query = query.where(Operation.op_id < before)
    rows = list(db.session.scalars(query.order_by(Operation.op_id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1].op_id if more and rows else None
