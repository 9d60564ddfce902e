"""Reading a period's rollups: one grouped query, summed per chart bucket and per method."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, literal, select

from ..extensions import db
from ..models.metrics import (
    BUCKETS,
    COUNTERS,
    TIMINGS,
    bucket_column,
    metric_days,
    metric_hours,
    metric_minutes,
)
from .periods import Period

SUMMED = (
    *COUNTERS,
    *(f"{kind}_sum_ms" for kind in TIMINGS),
    *(bucket_column(kind, i) for kind in TIMINGS for i in range(BUCKETS)),
)


GRAINS = {"minute": (metric_minutes, 1), "hour": (metric_hours, 60), "day": (metric_days, 1440)}
INDEX = {name: i for i, name in enumerate(SUMMED)}
DIGEST = {kind: [INDEX[bucket_column(kind, i)] for i in range(BUCKETS)] for kind in TIMINGS}


@dataclass
class Sums:
    """Column totals of some rollup rows, in SUMMED order."""

    values: list[float] = field(default_factory=lambda: [0] * len(SUMMED))

    def add(self, other: Sequence[float | None]) -> None:
        """Add another row's totals (in SUMMED order)."""
        self.values = [a + (b or 0) for a, b in zip(self.values, other, strict=True)]

    def __getitem__(self, name: str) -> float:
        return self.values[INDEX[name]]

    def digest(self, kind: str) -> list[int]:
        """The bucket counts of one timing kind ("idle" or "exec")."""
        return [int(self.values[i]) for i in DIGEST[kind]]


@dataclass
class PeriodSums:
    """A period's rollups summed per chart bucket (index) and per method."""

    period: Period
    start_minute: int
    by_bucket: dict[int, Sums] = field(default_factory=lambda: defaultdict(Sums))
    by_method: dict[str, Sums] = field(default_factory=lambda: defaultdict(Sums))
    total: Sums = field(default_factory=Sums)


def period_sums(period: Period, now: datetime) -> PeriodSums:
    """Sum the rollup rows of `period` ending at `now`: per bucket, then per method."""
    start = period.start_minute(now)
    table, factor = GRAINS[period.grain]
    key = table.c[period.grain]
    bucket = ((key * literal(factor) - literal(start)) // literal(period.width)).label("bucket")
    sums = [func.sum(table.c[name]) for name in SUMMED]
    where = key >= start // factor
    result = PeriodSums(period, start)
    for index, *values in db.session.execute(select(bucket, *sums).where(where).group_by(bucket)):
        if 0 <= int(index) < period.count:
            result.by_bucket[int(index)].add(values)
    method = table.c.method
    for name, *values in db.session.execute(select(method, *sums).where(where).group_by(method)):
        result.by_method[name].add(values)
        result.total.add(values)
    return result
