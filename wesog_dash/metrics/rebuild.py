"""Recomputing the rollup tables from the operations and their samples (`metrics rebuild`).

The same arithmetic as the live path (`rollups`): items count in the minute a sample saw them,
a finish in the minute upstream says the operation finished (else when a sample saw it). Run
it after an upgrade, or whenever the rollups are in doubt; on SQLite the first DELETE takes the
write lock, so the poller waits for the rebuild instead of slipping a change in between.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, select

from ..extensions import db
from ..models import Operation, OperationSample
from ..models.metrics import metric_days, metric_hours, metric_minutes
from .periods import epoch_minute
from .rollups import add, finish_increments, item_increments, method_key

BATCH = 5_000
Totals = dict[tuple[int, str], dict[str, float]]


@dataclass
class Rebuilt:
    """How much the rebuild wrote."""

    operations: int = 0
    samples: int = 0
    minute_rows: int = 0
    hour_rows: int = 0
    day_rows: int = 0


def _samples() -> Iterator[Any]:
    """Every sample with its operation's fields, by operation then in the order seen."""
    o, s = Operation, OperationSample
    query = (
        select(
            s.op_id,
            s.seen_at,
            s.num_good,
            s.num_bad,
            s.is_finished,
            o.method,
            o.num_bad.label("final_bad"),
            o.idle_ms,
            o.exec_ms,
            o.finished_at,
        )
        .join(o, o.op_id == s.op_id)
        .where(o.state != "cancelled")  # cancelled before it ran: neither good nor bad
        .order_by(s.op_id, s.id)
    )
    yield from db.session.execute(query.execution_options(yield_per=BATCH))


class _Row:
    """The operation as it stood at one sample, shaped like what `rollups` reads."""

    def __init__(self, sample: Any) -> None:
        self.method = sample.method
        self.num_good, self.num_bad = sample.num_good, sample.final_bad
        self.idle_ms, self.exec_ms = sample.idle_ms, sample.exec_ms
        self.finished_at, self.is_finished = sample.finished_at, sample.is_finished
        self.is_started, self.errors = True, None  # cancelled operations are not replayed


def minute_totals(done: Rebuilt) -> Totals:
    """Replay every sample into per-(minute, method) column totals."""
    totals: Totals = defaultdict(dict)
    current, good, bad, finished = None, 0, 0, False
    for sample in _samples():
        done.samples += 1
        if sample.op_id != current:
            current, good, bad, finished = sample.op_id, 0, 0, False
            done.operations += 1
        row, key = _Row(sample), method_key(sample.method)
        items = item_increments(row, sample.num_good - good, sample.num_bad - bad)
        add(totals[(epoch_minute(sample.seen_at), key)], items)
        if sample.is_finished and not finished:
            at = epoch_minute(sample.finished_at or sample.seen_at)
            add(totals[(at, key)], finish_increments(row))
        good, bad, finished = sample.num_good, sample.num_bad, finished or sample.is_finished
    return totals


def folded(minutes: Totals, width: int) -> Totals:
    """Fold minute totals into hour (width 60) or day (1440) totals."""
    wider: Totals = defaultdict(dict)
    for (minute, method), columns in minutes.items():
        add(wider[(minute // width, method)], columns)
    return wider


def _write(table: Table, key: str, totals: Totals) -> int:
    """Insert the non-empty totals as rows, in batches straight through the driver."""
    names = [c.name for c in table.columns]
    mark = "?" if db.session.get_bind().dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"
    cursor = db.session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    position = {name: i for i, name in enumerate(names)}
    written, batch = 0, []
    for (at, method), columns in sorted(totals.items()):
        if any(columns.values()):
            row: list[Any] = [0] * len(names)
            row[position[key]], row[position["method"]] = at, method
            for name, amount in columns.items():
                row[position[name]] = amount
            batch.append(row)
        if len(batch) >= BATCH:
            cursor.executemany(sql, batch)
            written, batch = written + len(batch), []
    if batch:
        cursor.executemany(sql, batch)
    return written + len(batch)


def rebuild() -> Rebuilt:
    """Empty the rollup tables and refill them from operations and samples (commits)."""
    done = Rebuilt()
    db.session.execute(delete(metric_minutes))
    db.session.execute(delete(metric_hours))
    db.session.execute(delete(metric_days))
    minutes = minute_totals(done)
    done.minute_rows = _write(metric_minutes, "minute", minutes)
    done.hour_rows = _write(metric_hours, "hour", folded(minutes, 60))
    done.day_rows = _write(metric_days, "day", folded(minutes, 1440))
    db.session.commit()
    return done
