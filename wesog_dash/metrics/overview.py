"""Everything the overview page draws for one period, read in a handful of indexed queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import requests
from .charts import Chart, lines, stacked_bars
from .counters import Counters, counters
from .digest import percentile
from .periods import Period, minute_time
from .reading import PeriodSums, period_sums

DELETION_STATES = ("done", "done_with_errors", "rejected", "other")


@dataclass(frozen=True)
class Bucket:
    """One chart bucket's numbers (the rows of the accessible tables)."""

    at: datetime
    label: str
    ops_finished: int
    items_good: int
    items_bad: int
    idle_p50: float | None
    idle_p95: float | None
    exec_p50: float | None
    exec_p95: float | None
    deletions: dict[str, int]


@dataclass(frozen=True)
class Overview:
    """Counters, per-bucket numbers, their charts, and the top-10 lists of a period."""

    counters: Counters
    buckets: list[Bucket]
    charts: dict[str, Chart]
    top_actors: list[requests.Ranked]
    top_reasons: list[requests.Ranked]


def label_of(period: Period, at: datetime) -> str:
    """A short UTC label for a bucket starting at `at`."""
    if period.width < 60:
        return at.strftime("%H:%M")
    if period.width < 1440:
        return at.strftime("%d %b %H:00") if period.width > 60 else at.strftime("%H:00")
    return at.strftime("%d %b")


def _deletion_counts(found: dict[str, int]) -> dict[str, int]:
    counts = {state: found.get(state, 0) for state in DELETION_STATES[:-1]}
    counts["other"] = sum(n for state, n in found.items() if state not in counts)
    return counts


def buckets_of(period: Period, now: datetime, sums: PeriodSums) -> list[Bucket]:
    """The per-bucket numbers of `period` ending at `now`, from its summed rollups."""
    deletions = requests.by_bucket(period, now)
    found = []
    for index, start in enumerate(period.bucket_starts(now)):
        at, s = minute_time(start), sums.by_bucket.get(index)
        idle, run = (s.digest("idle"), s.digest("exec")) if s else ([], [])
        found.append(
            Bucket(
                at,
                label_of(period, at),
                int(s["ops_finished"]) if s else 0,
                int(s["items_good"]) if s else 0,
                int(s["items_bad"]) if s else 0,
                percentile(idle, 0.5),
                percentile(idle, 0.95),
                percentile(run, 0.5),
                percentile(run, 0.95),
                _deletion_counts(deletions.get(index, {})),
            )
        )
    return found


def _percentile_lines(buckets: list[Bucket], kind: str) -> Chart:
    """p50 and p95 of one timing kind, in seconds."""

    def seconds(value: float | None) -> float | None:
        return None if value is None else value / 1000

    labels = [b.label for b in buckets]
    p50 = [seconds(getattr(b, f"{kind}_p50")) for b in buckets]
    p95 = [seconds(getattr(b, f"{kind}_p95")) for b in buckets]
    return lines(labels, [("p50", "p50", p50), ("p95", "p95", p95)])


def charts_of(buckets: list[Bucket]) -> dict[str, Chart]:
    """The SVG geometry of every chart drawn from the buckets."""
    labels = [b.label for b in buckets]
    good, bad = [b.items_good for b in buckets], [b.items_bad for b in buckets]
    deletions = [(state, [b.deletions[state] for b in buckets]) for state in DELETION_STATES]
    return {
        "ops": stacked_bars(labels, [("ops", [b.ops_finished for b in buckets])]),
        "items": stacked_bars(labels, [("good", good), ("bad", bad)]),
        "idle": _percentile_lines(buckets, "idle"),
        "exec": _percentile_lines(buckets, "exec"),
        "deletions": stacked_bars(labels, deletions),
    }


def overview(period: Period, now: datetime) -> Overview:
    """The whole overview of `period` ending at `now`."""
    sums = period_sums(period, now)
    buckets = buckets_of(period, now, sums)
    since = period.start(now)
    return Overview(
        counters=counters(period, now, sums),
        buckets=buckets,
        charts=charts_of(buckets),
        top_actors=requests.top_actors(since),
        top_reasons=requests.top_reasons(since),
    )
