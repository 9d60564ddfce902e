"""Reading deletion requests and their items from the database."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import DeletionItem, DeletionRequest, utcnow


def get_deletion(deletion_id: int) -> DeletionRequest | None:
    """One deletion request by id."""
    return db.session.get(DeletionRequest, deletion_id)


def recent_deletions(limit: int = 8) -> list[DeletionRequest]:
    """The newest deletion requests, whatever became of them (refused ones included)."""
    query = select(DeletionRequest).order_by(DeletionRequest.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def items_of(deletion_id: int, limit: int | None = None) -> list[DeletionItem]:
    """The items of a deletion request (the first `limit` of them), in the order given."""
    query = select(DeletionItem).where(DeletionItem.deletion_id == deletion_id)
    return list(db.session.scalars(query.order_by(DeletionItem.position).limit(limit)))


def outcome_counts(deletion_id: int) -> dict[str, int]:
    """How many items of a deletion request have each outcome (counted by the database)."""
    query = (
        select(DeletionItem.outcome, func.count())
        .where(DeletionItem.deletion_id == deletion_id)
        .group_by(DeletionItem.outcome)
    )
    return {outcome: count for outcome, count in db.session.execute(query)}


# A bulk deletion's message while its next chunks wait for operations of ours to end.
WAITING = "waiting for room: the console keeps a few operations in flight at once"


class Work(NamedTuple):
    """Deletion requests the dispatcher should act on now."""

    pending: list[int]  # due to be sent (or found abandoned mid-send)
    unknown: list[int]  # due to be reconciled


def pending_work(limit: int = 100) -> Work:
    """Ids of due pending (or scheduled) requests and of due unknown requests, oldest first."""
    pending = _due_ids("pending", limit) + _due_ids("scheduled", limit)  # undo window over
    pending += _due_ids("sending", limit)  # a claimed chunk whose sender stopped answering
    return Work(pending=pending, unknown=_due_ids("unknown", limit))


def _due_ids(state: str, limit: int) -> list[int]:
    now = utcnow()
    due = or_(DeletionRequest.next_attempt_at.is_(None), DeletionRequest.next_attempt_at <= now)
    query = select(DeletionRequest.id).where(DeletionRequest.state == state, due)
    return list(db.session.scalars(query.order_by(DeletionRequest.id).limit(limit)))


def wants_wait(deletion_id: int) -> bool:
    """True when the request asked the API to run its operation before answering (wait=true)."""
    deletion = db.session.get(DeletionRequest, deletion_id)
    return bool(deletion and deletion.do_wait)


def item_summary(deletion_id: int, limit: int) -> dict[str, object]:
    """What a live deletion view draws: the first `limit` items, the total and outcome counts.

    Counted by the database: a bulk request's page is polled every second and may hold
    100,000 items, of which only the first `limit` are drawn.
    """
    counts = outcome_counts(deletion_id)
    return {
        "items": items_of(deletion_id, limit=limit),
        "item_total": sum(counts.values()),
        "outcome_counts": counts,
    }


MAX_PAGE = 200


def deletions_before(
    before: int | None, limit: int, state: str | None = None
) -> tuple[list[DeletionRequest], int | None]:
    """A keyset page of deletion requests with id < `before`, newest first, and the next
    page's `before` (None on the last page)."""
    limit = min(MAX_PAGE, max(1, int(limit)))
    query = select(DeletionRequest)
    if before is not None:
        query = query.where(DeletionRequest.id < before)
    if state:
        query = query.where(DeletionRequest.state == state)
    rows = list(db.session.scalars(query.order_by(DeletionRequest.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1].id if more and rows else None


def items_after(
    deletion_id: int, after: int | None, limit: int, outcome: str | None = None
) -> tuple[list[DeletionItem], int | None]:
    """A keyset page of one request's items with position > `after`, in the order given, and
    the next page's `after` (None on the last page)."""
    limit = min(MAX_PAGE * 5, max(1, int(limit)))
    query = select(DeletionItem).where(DeletionItem.deletion_id == deletion_id)
    if after is not None:
        query = query.where(DeletionItem.position > after)
    if outcome:
        query = query.where(DeletionItem.outcome == outcome)
    rows = list(db.session.scalars(query.order_by(DeletionItem.position).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1].position if more and rows else None


def outcome_counts_of(deletion_ids: list[int]) -> dict[int, dict[str, int]]:
    """Outcome counts of several deletion requests in one grouped query."""
    found: dict[int, dict[str, int]] = {deletion_id: {} for deletion_id in deletion_ids}
    if not deletion_ids:
        return found
    query = (
        select(DeletionItem.deletion_id, DeletionItem.outcome, func.count())
        .where(DeletionItem.deletion_id.in_(deletion_ids))
        .group_by(DeletionItem.deletion_id, DeletionItem.outcome)
    )
    for deletion_id, outcome, count in db.session.execute(query):
        found[deletion_id][outcome] = count
    return found


# Built once: the image grid's watcher runs it on every poll, and building a statement with
# loader options costs more than running it (its cache key is computed anew each time).
LATEST_ITEMS = (
    select(DeletionItem)
    .where(
        DeletionItem.id.in_(
            select(func.max(DeletionItem.id))
            .where(DeletionItem.image_id.in_(bindparam("image_ids", expanding=True)))
            .group_by(DeletionItem.image_id)
        )
    )
    .options(selectinload(DeletionItem.deletion).selectinload(DeletionRequest.operations))
)


def latest_items(image_ids: list[str]) -> dict[str, DeletionItem]:
    """For each id, the item of the newest deletion request that contains it (one query)."""
    if not image_ids:
        return {}
    found = db.session.scalars(LATEST_ITEMS, {"image_ids": image_ids})
    return {item.image_id: item for item in found}


def card_items(image_ids: list[str], shown_since: datetime) -> dict[str, DeletionItem]:
    """The deletion each image card of a grid shows (one query): the newest one of the image
    while it runs, when it failed, or when it ended after the grid's search results were read
    (`shown_since`); an older finished one is not shown (the search still lists the image)."""
    shown = {}
    for image_id, item in latest_items(image_ids).items():
        ended = item.settled_at or item.deletion.finished_at or item.deletion.created_at
        if item.deletion.is_live or item.outcome == "failed" or ended >= shown_since:
            shown[image_id] = item
    return shown


def find_item(deletion_id: int, image_id: str | None) -> DeletionItem | None:
    """The item of `image_id` in the request (or its only item when no id is given)."""
    query = select(DeletionItem).where(DeletionItem.deletion_id == deletion_id)
    if image_id is not None:
        query = query.where(DeletionItem.image_id == image_id)
    found = list(db.session.scalars(query.order_by(DeletionItem.position).limit(2)))
    return found[0] if len(found) == 1 or (image_id is not None and found) else None


def unsent_total(deletion_id: int) -> int:
    """Items of the request never handed to upstream (counted by the database)."""
    query = select(func.count()).where(
        DeletionItem.deletion_id == deletion_id,
        DeletionItem.op_id.is_(None),
        DeletionItem.outcome == "pending",
    )
    return int(db.session.scalar(query) or 0)
