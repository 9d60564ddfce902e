"""The periods the overview and the reports offer, and how each is cut into chart buckets.

A period ends now and starts at the beginning of its oldest bucket, buckets being aligned to
whole UTC minutes, hours, 6-hour blocks or days: "last 24 h" is the current hour and the 23
before it. Counters and charts of a period therefore read exactly the same rollup rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Period:
    """A named period: `count` buckets of `width` minutes, read from minute or hour rows."""

    name: str
    label: str
    width: int  # minutes per chart bucket
    count: int  # buckets in the period
    grain: str  # "minute", "hour" or "day": which rollup table to read

    @property
    def bucket_word(self) -> str:
        """What one chart bucket is: "minute", "hour", "6 hours" or "day"."""
        return {1: "minute", 60: "hour", 1440: "day"}.get(self.width, f"{self.width // 60} hours")

    def start_minute(self, now: datetime) -> int:
        """The epoch minute at which the period's oldest bucket starts."""
        current = epoch_minute(now) // self.width * self.width
        return current - (self.count - 1) * self.width

    def start(self, now: datetime) -> datetime:
        """The period's start as a UTC time."""
        return minute_time(self.start_minute(now))

    def bucket_starts(self, now: datetime) -> list[int]:
        """The epoch minute at which each bucket starts, oldest first."""
        first = self.start_minute(now)
        return [first + i * self.width for i in range(self.count)]


PERIODS = (
    Period("hour", "last hour", 1, 60, "minute"),
    Period("day", "last 24 hours", 60, 24, "hour"),
    Period("week", "last 7 days", 360, 28, "hour"),
    Period("month", "last 30 days", 1440, 30, "day"),
)


def period_named(name: str | None, default: str = "day") -> Period:
    """The period called `name`; anything else gives the default."""
    for period in PERIODS:
        if period.name == name:
            return period
    return period_named(default)


def epoch_minute(moment: datetime) -> int:
    """Whole minutes since 1970-01-01 UTC."""
    return int((moment - EPOCH).total_seconds() // 60)


def minute_time(minute: int) -> datetime:
    """The UTC time at which epoch minute `minute` starts."""
    return EPOCH + timedelta(minutes=minute)
