"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from .. import clock
from ..inputs import iso_day

# A 64-bit integer on both engines. SQLite's INTEGER already holds 64 bits, and naming it
# INTEGER there keeps its existing tables as they are (changing a type rebuilds the table).
BigInt = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC: the console's clock, which a stepped wall
    clock does not move (`wesog_dash.clock`)."""
    return clock.now()


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of `day` (filters take whole UTC days)."""
    return datetime.combine(day, time.min, tzinfo=UTC)


LAST_FILTER_DAY = date(9998, 12, 31)  # a day after it has no "next midnight" to compare with


def parse_day(raw: str | None, label: str, errors: list[str]) -> date | None:
    """A YYYY-MM-DD filter day, or None (with a message in `errors` when it was given wrong)."""
    text = (raw or "").strip()
    if not text:
        return None
    day = iso_day(text)
    if day is None:
        errors.append(f"{label}: write the date as YYYY-MM-DD; {text[:40]!r} is ignored.")
        return None
    if day > LAST_FILTER_DAY:
        errors.append(f"{label}: dates go up to {LAST_FILTER_DAY:%Y-%m-%d}; the filter is ignored.")
        return None
    return day


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime: `timestamptz` on PostgreSQL, naive UTC text on SQLite."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        # SQLite keeps no zone, so it stores naive UTC; PostgreSQL keeps the instant itself.
        return dialect.type_descriptor(DateTime(timezone=dialect.name == "postgresql"))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # psycopg answers in the session's time zone, whatever the server's TimeZone says.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
