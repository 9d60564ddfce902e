"""Reading a period's rollups: one grouped query, summed per chart bucket and per method."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, literal, select

from ..extensions import db
from ..models.metrics import BUCKETS, COUNTERS, TIMINGS, bucket_column, metric_hours, metric_minutes
from .periods import Period

SUMMED = (
    *COUNTERS,
    *(f"{kind}_sum_ms" for kind in TIMINGS),
    *(bucket_column(kind, i) for kind in TIMINGS for i in range(BUCKETS)),
)


@dataclass
class Sums:
    """Column totals of some rollup rows."""

    values: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SUMMED, 0))

    def add(self, other: dict[str, float]) -> None:
        """Add another row's totals."""
        for name in SUMMED:
            self.values[name] += other.get(name) or 0

    def __getitem__(self, name: str) -> float:
        return self.values[name]

    def digest(self, kind: str) -> list[int]:
        """The bucket counts of one timing kind ("idle" or "exec")."""
        return [int(self.values[bucket_column(kind, i)]) for i in range(BUCKETS)]


@dataclass
class PeriodSums:
    """A period's rollups summed per chart bucket (index) and per method."""

    period: Period
    start_minute: int
    by_bucket: dict[int, Sums] = field(default_factory=lambda: defaultdict(Sums))
    by_method: dict[str, Sums] = field(default_factory=lambda: defaultdict(Sums))
    total: Sums = field(default_factory=Sums)


def period_sums(period: Period, now: datetime) -> PeriodSums:
    """Sum the rollup rows of `period` ending at `now` (at most buckets × methods rows)."""
    start = period.start_minute(now)
    if period.grain == "minute":
        table, key, factor = metric_minutes, metric_minutes.c.minute, 1
    else:
        table, key, factor = metric_hours, metric_hours.c.hour, 60
    bucket = ((key * literal(factor) - literal(start)) / literal(period.width)).label("bucket")
    query = (
        select(bucket, table.c.method, *(func.sum(table.c[name]).label(name) for name in SUMMED))
        .where(key >= start // factor)
        .group_by(bucket, table.c.method)
    )
    result = PeriodSums(period, start)
    for row in db.session.execute(query).mappings():
        index = int(row["bucket"])
        if 0 <= index < period.count:
            values = dict(row)
            result.by_bucket[index].add(values)
            result.by_method[row["method"]].add(values)
            result.total.add(values)
    return result
