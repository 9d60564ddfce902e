"""The list of every deletion request (`/deletions`): filters and keyset pages, newest first.

Reads only; the request rows and their operations come in two queries per page, however many
requests the database holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import DeletionRequest

MAX_WORDS = 8  # words of the reason filter that count; more are ignored


@dataclass(frozen=True)
class DeletionFilters:
    """What the list is narrowed to; None (or no words) means "any"."""

    state: str | None = None
    actor: str | None = None
    words: tuple[str, ...] = field(default_factory=tuple)
    created_from: date | None = None
    created_to: date | None = None


@dataclass(frozen=True)
class DeletionPage:
    """One page of requests, newest first, and the keys of the pages around it."""

    rows: list[DeletionRequest]
    older: int | None  # `before` of the next (older) page, None on the last page
    newer: int | None  # `after` of the previous (newer) page, None on the first page


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of `day`."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def filtered(query: Select[tuple[DeletionRequest]], filters: DeletionFilters) -> Select:
    """`query` narrowed by `filters` (reason words match the reason or the ticket, any case)."""
    if filters.state:
        query = query.where(DeletionRequest.state == filters.state)
    if filters.actor:
        query = query.where(DeletionRequest.actor == filters.actor)
    for word in filters.words[:MAX_WORDS]:
        query = query.where(
            or_(
                DeletionRequest.reason.icontains(word, autoescape=True),
                DeletionRequest.ticket.icontains(word, autoescape=True),
            )
        )
    if filters.created_from:
        query = query.where(DeletionRequest.created_at >= day_start(filters.created_from))
    if filters.created_to:
        end = day_start(filters.created_to) + timedelta(days=1)
        query = query.where(DeletionRequest.created_at < end)
    return query


def deletion_page(
    filters: DeletionFilters, limit: int, before: int | None = None, after: int | None = None
) -> DeletionPage:
    """Up to `limit` requests older than `before` (or, with `after`, the page just newer than
    `after`), newest first, with their operations loaded."""
    query = filtered(select(DeletionRequest), filters).options(
        selectinload(DeletionRequest.operations)
    )
    if after is not None and before is None:
        newer_first = query.where(DeletionRequest.id > after).order_by(DeletionRequest.id)
        rows = list(db.session.scalars(newer_first.limit(limit + 1)))
        more_newer = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        return DeletionPage(
            rows=rows,
            older=rows[-1].id if rows and has_older(filters, rows[-1].id) else None,
            newer=rows[0].id if more_newer and rows else None,
        )
    if before is not None:
        query = query.where(DeletionRequest.id < before)
    rows = list(db.session.scalars(query.order_by(DeletionRequest.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    newer = rows[0].id if before is not None and rows and has_newer(filters, rows[0].id) else None
    return DeletionPage(rows=rows, older=rows[-1].id if more and rows else None, newer=newer)


def has_older(filters: DeletionFilters, key: int) -> bool:
    """True when a request matching `filters` is older than request `key`."""
    query = filtered(select(DeletionRequest.id), filters).where(DeletionRequest.id < key)
    return db.session.scalar(query.limit(1)) is not None


def has_newer(filters: DeletionFilters, key: int) -> bool:
    """True when a request matching `filters` is newer than request `key`."""
    query = filtered(select(DeletionRequest.id), filters).where(DeletionRequest.id > key)
    return db.session.scalar(query.limit(1)) is not None
