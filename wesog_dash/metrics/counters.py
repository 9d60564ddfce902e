"""The overview's counters for a period: operations, items, failure rate, deletions, timings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from ..extensions import db
from ..models import DeletionItem, DeletionRequest, Operation
from .digest import percentile
from .periods import Period, minute_time
from .reading import PeriodSums, Sums, period_sums

LIVE_STATES = ("running", "queued", "stale")


@dataclass(frozen=True)
class MethodTimings:
    """Queue wait and run time percentiles (ms) of the operations of one method."""

    method: str
    ops: int
    idle_p50: float | None
    idle_p95: float | None
    exec_p50: float | None
    exec_p95: float | None

    @classmethod
    def of(cls, method: str, sums: Sums) -> MethodTimings:
        """Percentiles read from the digests in `sums`."""
        idle, run = sums.digest("idle"), sums.digest("exec")
        return cls(
            method,
            int(sums["ops_finished"]),
            percentile(idle, 0.5),
            percentile(idle, 0.95),
            percentile(run, 0.5),
            percentile(run, 0.95),
        )


@dataclass(frozen=True)
class Counters:
    """What happened in a period, and what is going on now."""

    period: Period
    since: datetime
    now_by_state: dict[str, int]
    ops_finished: int
    ops_with_errors: int
    items_good: int
    items_bad: int
    console_deleted: int
    deletions_by_state: dict[str, int]
    timings: list[MethodTimings] = field(default_factory=list)

    @property
    def items(self) -> int:
        """Items processed (good and failed)."""
        return self.items_good + self.items_bad

    @property
    def failure_rate(self) -> float | None:
        """Failed items over items processed; None when nothing was processed."""
        return self.items_bad / self.items if self.items else None

    @property
    def deletions(self) -> int:
        """Deletion requests made in the period."""
        return sum(self.deletions_by_state.values())


def live_counts() -> dict[str, int]:
    """Operations running, queued and stale right now (the state index answers)."""
    query = (
        select(Operation.state, func.count())
        .where(Operation.state.in_(LIVE_STATES))
        .group_by(Operation.state)
    )
    found = dict.fromkeys(LIVE_STATES, 0)
    found.update({state: count for state, count in db.session.execute(query)})
    return found


def deletions_by_state(since: datetime) -> dict[str, int]:
    """Deletion requests made since `since`, counted by their state."""
    # Grouped by an expression: grouping by the bare column lets SQLite walk the whole state
    # index instead of the period's range of (created_at, state).
    state = (DeletionRequest.state + "").label("state")
    query = select(state, func.count()).where(DeletionRequest.created_at >= since).group_by(state)
    return {state: count for state, count in db.session.execute(query)}


def images_deleted(since: datetime) -> int:
    """Images this console's deletions settled as deleted since `since` (item outcomes)."""
    query = select(func.count()).where(
        DeletionItem.settled_at >= since, DeletionItem.outcome == "deleted"
    )
    return db.session.scalar(query) or 0


def counters(period: Period, now: datetime, sums: PeriodSums | None = None) -> Counters:
    """The counters of `period` ending at `now` (pass `sums` when already read)."""
    sums = sums or period_sums(period, now)
    since = minute_time(sums.start_minute)
    total = sums.total
    timings = [MethodTimings.of("all methods", total)] if total["ops_finished"] else []
    timings += [
        MethodTimings.of(method or "unknown", method_sums)
        for method, method_sums in sorted(sums.by_method.items())
        if method_sums["ops_finished"]
    ]
    return Counters(
        period=period,
        since=since,
        now_by_state=live_counts(),
        ops_finished=int(total["ops_finished"]),
        ops_with_errors=int(total["ops_with_errors"]),
        items_good=int(total["items_good"]),
        items_bad=int(total["items_bad"]),
        console_deleted=images_deleted(since),
        deletions_by_state=deletions_by_state(since),
        timings=timings,
    )
