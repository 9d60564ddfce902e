"""Keeping the rollups as operations change: one upsert per touched (minute, method) and hour.

`note_snapshot` runs inside `operations.record_snapshot`, in the transaction that stores the
snapshot: the counts it adds are the difference between the stored row before and after, so
polling the same state twice, a restart, or discovery listing an operation again adds nothing.
Items are counted in the minute they were seen processed; an operation's finish and timings
in the minute upstream says it finished (or we saw it finish, when upstream gives no time).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models.metrics import (
    COUNTED_COLUMNS,
    bucket_column,
    metric_days,
    metric_hours,
    metric_minutes,
)
from ..models.operations import was_cancelled
from .digest import bucket_of
from .periods import epoch_minute

Increments = dict[int, dict[str, float]]  # epoch minute -> column -> amount to add
# While set (see `batched`): (method, minute) -> columns to add, upserted once at the end.
_batch: ContextVar[dict[tuple[str, int], dict[str, float]] | None] = ContextVar(
    "rollup_batch", default=None
)


class OperationLike(Protocol):
    """The fields of an operation row the rollups read."""

    method: str | None
    num_good: int
    num_bad: int
    is_started: bool
    is_finished: bool
    errors: Any
    idle_ms: float
    exec_ms: float
    finished_at: datetime | None


def method_key(method: str | None) -> str:
    """The rollup key of a method ('' when upstream did not say)."""
    return (method or "")[:16]


def item_increments(row: OperationLike, good: int, bad: int) -> dict[str, float]:
    """Columns to add for `good` and `bad` newly processed items of `row`."""
    found: dict[str, float] = {}
    if good > 0:
        found["items_good"] = good
    if bad > 0:
        found["items_bad"] = bad
    return found


def finish_increments(row: OperationLike) -> dict[str, float]:
    """Columns to add for `row` having finished: the count and its two timings."""
    return {
        "ops_finished": 1,
        "ops_with_errors": 1 if row.num_bad > 0 else 0,
        "idle_sum_ms": float(row.idle_ms or 0),
        "exec_sum_ms": float(row.exec_ms or 0),
        bucket_column("idle", bucket_of(row.idle_ms)): 1,
        bucket_column("exec", bucket_of(row.exec_ms)): 1,
    }


def note_snapshot(row: OperationLike, before: tuple[Any, ...] | None, now: datetime) -> None:
    """Add what changed between `before` (good, bad, started, finished) and `row` (no commit).

    An operation cancelled upstream before it ran adds nothing: its elements were neither
    deleted nor failed, and it is no finished operation with errors.
    """
    if was_cancelled(row.is_started, row.is_finished, row.num_good, row.errors):
        return
    good_before, bad_before, _, finished_before = before or (0, 0, False, False)
    changes: Increments = defaultdict(dict)
    items = item_increments(
        row, (row.num_good or 0) - (good_before or 0), (row.num_bad or 0) - (bad_before or 0)
    )
    if items:
        changes[epoch_minute(now)].update(items)
    if row.is_finished and not finished_before:
        add(changes[epoch_minute(row.finished_at or now)], finish_increments(row))
    batch = _batch.get()
    for minute, columns in changes.items():
        if batch is None:
            upsert(method_key(row.method), minute, columns)
        else:
            add(batch.setdefault((method_key(row.method), minute), {}), columns)


@contextmanager
def batched() -> Iterator[None]:
    """Gather the increments of many snapshots, then upsert each (method, minute) once.

    One list read may store a thousand operations: a thousand times three upserts become a
    few. Same transaction as the snapshots (the caller commits after the block).
    """
    if _batch.get() is not None:
        yield  # already gathering
        return
    token = _batch.set({})
    try:
        yield
        gathered = _batch.get() or {}
    finally:
        _batch.reset(token)
    for (method, minute), columns in gathered.items():
        upsert(method, minute, columns)


def add(target: dict[str, float], more: Mapping[str, float]) -> None:
    """Add `more` into `target`, column by column."""
    for name, amount in more.items():
        target[name] = target.get(name, 0) + amount


def upsert(method: str, minute: int, columns: Mapping[str, float]) -> None:
    """Add `columns` to the minute row and to its hour and day rows, creating them if missing."""
    if not any(columns.values()):
        return
    # Every column, zeros included: one statement shape, compiled once. Naming only the
    # touched columns gave thousands of shapes (50 buckets × 2 timings × counters) that churned
    # SQLAlchemy's compiled cache and grew the poller's memory.
    values = {name: columns.get(name, 0) for name in COUNTED_COLUMNS}
    _upsert(metric_minutes, "minute", minute, method, values)
    _upsert(metric_hours, "hour", minute // 60, method, values)
    _upsert(metric_days, "day", minute // 1440, method, values)


def _upsert(table: Table, key: str, at: int, method: str, values: Mapping[str, float]) -> None:
    dialect = db.session.get_bind().dialect.name
    parameters = {key: at, "method": method, **values}
    db.session.execute(_upsert_statement(dialect, table, key), parameters)


@cache
def _upsert_statement(dialect: str, table: Table, key: str) -> Any:
    """The upsert of one rollup row, built once per table: its ~110 columns made building it
    afresh cost ~15 ms per call, more than running it (values come as bound parameters)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    names = [key, "method", *COUNTED_COLUMNS]
    statement = insert(table).values({name: bindparam(name) for name in names})
    return statement.on_conflict_do_update(
        index_elements=[key, "method"],
        set_={name: table.c[name] + statement.excluded[name] for name in COUNTED_COLUMNS},
    )
