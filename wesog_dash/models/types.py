"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of `day` (filters take whole UTC days)."""
    return datetime.combine(day, time.min, tzinfo=UTC)


LAST_FILTER_DAY = date(9998, 12, 31)  # a day after it has no "next midnight" to compare with


def parse_day(raw: str | None, label: str, errors: list[str]) -> date | None:
    """A YYYY-MM-DD filter day, or None (with a message in `errors` when it was given wrong)."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors.append(f"{label}: write the date as YYYY-MM-DD; {text[:40]!r} is ignored.")
        return None
    if day > LAST_FILTER_DAY:
        errors.append(f"{label}: dates go up to {LAST_FILTER_DAY:%Y-%m-%d}; the filter is ignored.")
        return None
    return day


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime; SQLite keeps no zone, so we store naive UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)
