"""Deletion requests of a period: by outcome per chart bucket, top actors, top reasons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, cast, extract, func, select

from ..extensions import db
from ..models import DeletionRequest
from .periods import Period, minute_time

TOP = 10


@dataclass(frozen=True)
class Ranked:
    """One line of a top-10: who (or why), how many requests, how many images."""

    name: str
    requests: int
    images: int


def minute_of(column: Any) -> Any:
    """SQL for the epoch minute of a stored UTC time column, on SQLite or PostgreSQL."""
    if db.session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", column), Integer) // 60
    return cast(extract("epoch", column), Integer) // 60


def by_bucket(period: Period, now: datetime) -> dict[int, dict[str, int]]:
    """Deletion requests per chart bucket and state: {bucket index: {state: count}}."""
    start = period.start_minute(now)
    bucket = ((minute_of(DeletionRequest.created_at) - start) // period.width).label("bucket")
    query = (
        select(bucket, DeletionRequest.state, func.count())
        .where(DeletionRequest.created_at >= minute_time(start))
        .group_by(bucket, DeletionRequest.state)
    )
    found: dict[int, dict[str, int]] = {}
    for index, state, count in db.session.execute(query):
        if 0 <= int(index) < period.count:
            found.setdefault(int(index), {})[state] = count
    return found


def top(column: Any, since: datetime, limit: int = TOP) -> list[Ranked]:
    """The `limit` most frequent values of `column` among requests made since `since`."""
    requests = func.count().label("requests")
    query = (
        select(column, requests, func.sum(DeletionRequest.item_count))
        .where(DeletionRequest.created_at >= since)
        .group_by(column)
        .order_by(requests.desc(), column)
        .limit(limit)
    )
    return [Ranked(str(name), n, int(images or 0)) for name, n, images in db.session.execute(query)]


def top_actors(since: datetime) -> list[Ranked]:
    """Who asked for the most deletions since `since`."""
    return top(DeletionRequest.actor, since)


def top_reasons(since: datetime) -> list[Ranked]:
    """The most frequent reasons given since `since` (exact text)."""
    return top(DeletionRequest.reason, since)
