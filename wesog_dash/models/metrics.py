"""Rollups of finished operations and item progress, per minute, hour and day.

Three tables with the same columns: `metric_minutes` keyed by (epoch minute, method),
`metric_hours` by (epoch hour, method) and `metric_days` by (epoch day, method). Times are
whole minutes (hours, days) since 1970-01-01 UTC, so grouping into wider buckets is integer
division on any engine. Queue wait (`idle_ms`) and run time (`exec_ms`) are kept as sums and
as counts in fixed half-octave buckets (`metrics.digest`), from which p50/p95 are read.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Integer, String, Table

from ..extensions import db

# Bucket 0 holds [0, 1) ms; bucket k (1..BUCKETS-2) holds [2^((k-1)/2), 2^(k/2)) ms; the last
# bucket holds everything from 2^((BUCKETS-2)/2) ms (4.6 hours) on.
BUCKETS = 50
TIMINGS = ("idle", "exec")
COUNTERS = ("ops_finished", "ops_with_errors", "items_good", "items_bad")


def bucket_column(kind: str, index: int) -> str:
    """The column counting operations of one timing `kind` in bucket `index`."""
    return f"{kind}_b{index:02d}"


def _counted_columns() -> tuple[str, ...]:
    """Every column a rollup row adds up (all but its key and method), in table order."""
    names = list(COUNTERS)
    for kind in TIMINGS:
        names += [f"{kind}_sum_ms", *(bucket_column(kind, i) for i in range(BUCKETS))]
    return tuple(names)


def _columns() -> list[Column[object]]:
    columns: list[Column[object]] = [
        Column(name, BigInteger, nullable=False, server_default="0") for name in COUNTERS
    ]
    for kind in TIMINGS:
        columns.append(Column(f"{kind}_sum_ms", Float, nullable=False, server_default="0"))
        columns += [
            Column(bucket_column(kind, i), Integer, nullable=False, server_default="0")
            for i in range(BUCKETS)
        ]
    return columns


def _rollup_table(name: str, key: str) -> Table:
    return Table(
        name,
        db.metadata,
        Column(key, Integer, primary_key=True, autoincrement=False),
        Column("method", String(16), primary_key=True),
        *_columns(),
    )


metric_minutes = _rollup_table("metric_minutes", "minute")
metric_hours = _rollup_table("metric_hours", "hour")
metric_days = _rollup_table("metric_days", "day")

# Every column a rollup row adds up, in table order.
COUNTED_COLUMNS = _counted_columns()
