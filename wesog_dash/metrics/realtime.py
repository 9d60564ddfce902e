"""The realtime chart: items processed per minute over the last ten minutes, and what runs now.

Read from the minute rollups and the state index only; `version` changes exactly when what the
chart draws changes, so a poll that brings the same version back answers "nothing changed".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ..extensions import db
from ..models.metrics import metric_minutes
from .charts import Chart, stacked_bars
from .counters import live_counts
from .periods import epoch_minute, minute_time

MINUTES = 10


@dataclass(frozen=True)
class Minute:
    """One bar of the realtime chart."""

    at: datetime
    good: int
    bad: int
    finished: int


@dataclass(frozen=True)
class Realtime:
    """The last MINUTES minutes (oldest first) and the live counts, with their version."""

    minutes: list[Minute]
    now_by_state: dict[str, int]

    @property
    def chart(self) -> Chart:
        """Good and failed items per minute, stacked."""
        labels = [m.at.strftime("%H:%M") for m in self.minutes]
        good, bad = [m.good for m in self.minutes], [m.bad for m in self.minutes]
        return stacked_bars(labels, [("good", good), ("bad", bad)])

    @property
    def version(self) -> str:
        """A short digest of everything drawn (the current minute included)."""
        parts = [f"{m.at:%H%M}:{m.good}:{m.bad}:{m.finished}" for m in self.minutes]
        parts += [f"{k}={v}" for k, v in sorted(self.now_by_state.items())]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def realtime(now: datetime) -> Realtime:
    """The realtime chart's data at `now`."""
    last = epoch_minute(now)
    first = last - MINUTES + 1
    t = metric_minutes.c
    query = (
        select(t.minute, func.sum(t.items_good), func.sum(t.items_bad), func.sum(t.ops_finished))
        .where(t.minute >= first, t.minute <= last)
        .group_by(t.minute)
    )
    found = {minute: row for minute, *row in db.session.execute(query)}
    minutes = [
        Minute(minute_time(m), *(int(v or 0) for v in found.get(m, (0, 0, 0))))
        for m in range(first, last + 1)
    ]
    return Realtime(minutes, live_counts())
