"""Set-based reads and writes of deletion items: a request may hold 100,000 of them, so no
code path loads them all; chunks are read by position and outcomes written by UPDATE … WHERE."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, select, update

from ..extensions import db
from ..models import DeletionItem, DeletionRequest, ImageSnapshot, utcnow
from ..models.operations import CANCELLED_MSG

# The snapshot problem of an image the metadata read did not find: nothing to restore.
GONE = "not found upstream: nothing to restore"

UNSETTLED = ("pending", "sending", "unknown")
NEVER_THERE = "not found: no such image when the deletion was sent (nothing to delete)"
IN_CHUNK = 500  # values per IN (…): well under every engine's limit on bound parameters


def batches(values: Iterable[Any], size: int = IN_CHUNK) -> Iterable[list[Any]]:
    """`values` in lists of at most `size`."""
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def unsent_chunk(deletion_id: int, size: int) -> list[tuple[int, str]]:
    """(item id, image id) of the next `size` items never handed to upstream, in order."""
    query = (
        select(DeletionItem.id, DeletionItem.image_id)
        .where(
            DeletionItem.deletion_id == deletion_id,
            DeletionItem.op_id.is_(None),
            DeletionItem.outcome == "pending",
        )
        .order_by(DeletionItem.position)
        .limit(size)
    )
    return [(item_id, image_id) for item_id, image_id in db.session.execute(query)]


def claim_chunk(item_ids: list[int]) -> int:
    """The chunk's unsent items are on their way (`sending`); how many were still unsent."""
    claimed = 0
    for batch in batches(item_ids):
        result = db.session.execute(
            update(DeletionItem)
            .where(
                DeletionItem.id.in_(batch),
                DeletionItem.op_id.is_(None),
                DeletionItem.outcome == "pending",
            )
            .values(outcome="sending")
            .execution_options(synchronize_session=False)
        )
        claimed += int(getattr(result, "rowcount", 0) or 0)
    return claimed


def unclaim(item_ids: list[int]) -> None:
    """The chunk was not carried out (the API was down): its items are unsent again."""
    for batch in batches(item_ids):
        db.session.execute(
            update(DeletionItem)
            .where(DeletionItem.id.in_(batch), DeletionItem.outcome == "sending")
            .values(outcome="pending")
            .execution_options(synchronize_session=False)
        )


def in_flight(deletion_id: int) -> list[tuple[int, str]]:
    """(item id, image id) of the chunk on its way to the API (none between two chunks)."""
    query = select(DeletionItem.id, DeletionItem.image_id).where(
        DeletionItem.deletion_id == deletion_id, DeletionItem.outcome == "sending"
    )
    return [(item_id, image_id) for item_id, image_id in db.session.execute(query)]


def drop_unsent(deletion_id: int, message: str) -> int:
    """The items never handed to upstream are `not_sent` (caller commits); how many.

    One UPDATE, never a load of every item (a request may hold 100,000 of them); the chunk on
    its way (`sending`) is not touched: the API's answer settles it.
    """
    result = db.session.execute(
        update(DeletionItem)
        .where(
            DeletionItem.deletion_id == deletion_id,
            DeletionItem.op_id.is_(None),
            DeletionItem.outcome == "pending",
        )
        .values(outcome="not_sent", message=message, settled_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def unsent_count(deletion_id: int) -> int:
    """Items not handed to the API yet: unsent, or in the chunk on its way."""
    query = select(func.count()).where(
        DeletionItem.deletion_id == deletion_id,
        DeletionItem.op_id.is_(None),
        DeletionItem.outcome.in_(("pending", "sending")),
    )
    return int(db.session.scalar(query) or 0)


def has_unsent(deletion_id: int) -> bool:
    """True while some item was never handed to upstream (those in doubt do not count)."""
    return bool(unsent_chunk(deletion_id, 1))


def in_doubt(deletion_id: int) -> list[tuple[int, str]]:
    """(item id, image id) of the items whose send may or may not have happened."""
    query = select(DeletionItem.id, DeletionItem.image_id).where(
        DeletionItem.deletion_id == deletion_id, DeletionItem.outcome == "unknown"
    )
    return [(item_id, image_id) for item_id, image_id in db.session.execute(query)]


def any_sent(deletion_id: int) -> bool:
    """True when some item of the request is linked to an operation."""
    query = select(DeletionItem.id).where(
        DeletionItem.deletion_id == deletion_id, DeletionItem.op_id.is_not(None)
    )
    return db.session.scalar(query.limit(1)) is not None


def link_items(item_ids: list[int], op_id: int) -> None:
    """These items travel in operation `op_id`; items on their way or in doubt are pending
    again (the operation decides)."""
    outcome = case(
        (DeletionItem.outcome.in_(("unknown", "sending")), "pending"),
        else_=DeletionItem.outcome,
    )
    for batch in batches(item_ids):
        db.session.execute(
            update(DeletionItem)
            .where(DeletionItem.id.in_(batch))
            .values(op_id=op_id, outcome=outcome)
            .execution_options(synchronize_session=False)
        )


def set_outcome(item_ids: list[int], outcome: str, **values: Any) -> None:
    """Give these items `outcome` (and e.g. message, settled_at)."""
    for batch in batches(item_ids):
        db.session.execute(
            update(DeletionItem)
            .where(DeletionItem.id.in_(batch))
            .values(outcome=outcome, **values)
            .execution_options(synchronize_session=False)
        )


def refuse_unsent(deletion_id: int, outcome: str, message: str, now: datetime) -> int:
    """Every item not in an operation gets `outcome` with `message`; returns how many."""
    result = db.session.execute(
        update(DeletionItem)
        .where(
            DeletionItem.deletion_id == deletion_id,
            DeletionItem.op_id.is_(None),
            DeletionItem.outcome.in_(UNSETTLED),
        )
        .values(outcome=outcome, message=message, settled_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def first_image_id(deletion_id: int) -> str | None:
    """The image id of the first item (a single deletion's only image)."""
    query = select(DeletionItem.image_id).where(DeletionItem.deletion_id == deletion_id)
    return db.session.scalar(query.order_by(DeletionItem.position).limit(1))


def only_image(deletion: DeletionRequest) -> str | None:
    """A single deletion's only image id (None for a bulk one), as audit events name it."""
    return first_image_id(deletion.id) if deletion.item_count == 1 else None


def has_unsettled(deletion_id: int) -> bool:
    """True while some item of the request waits for an outcome (one index probe)."""
    query = select(DeletionItem.id).where(
        DeletionItem.deletion_id == deletion_id, DeletionItem.outcome.in_(UNSETTLED)
    )
    return db.session.scalar(query.limit(1)) is not None


def has_work_upstream(deletion_id: int) -> bool:
    """True while a chunk of the request is on its way or one of its operations runs."""
    query = select(DeletionItem.id).where(
        DeletionItem.deletion_id == deletion_id,
        DeletionItem.outcome.in_(UNSETTLED),
        or_(DeletionItem.outcome == "sending", DeletionItem.op_id.is_not(None)),
    )
    return db.session.scalar(query.limit(1)) is not None


def ids_in_operation(op_id: int, image_ids: list[str]) -> set[str]:
    """Which of `image_ids` an operation of ours carries."""
    found: set[str] = set()
    for batch in batches(image_ids):
        query = select(DeletionItem.image_id).where(
            DeletionItem.op_id == op_id, DeletionItem.image_id.in_(batch)
        )
        found.update(db.session.scalars(query))
    return found


def item_at(op_id: int, index: int) -> int | None:
    """The id of the operation's item at 0-based `index` (items in position order)."""
    query = (
        select(DeletionItem.id)
        .where(DeletionItem.op_id == op_id)
        .order_by(DeletionItem.position)
        .offset(index)
        .limit(1)
    )
    return db.session.scalar(query)


def settle_failures(op_id: int, failures: dict[str, list[str]], now: datetime) -> None:
    """Unsettled items of the operation named in `failures` (message → image ids) fail."""
    for message, image_ids in failures.items():
        outcome = "not_found" if "not found" in message.lower() else "failed"
        if message == CANCELLED_MSG:  # cancelled upstream before it ran: neither good nor bad
            outcome, message = "cancelled", "cancelled upstream before it ran"
        for batch in batches(image_ids):
            db.session.execute(
                update(DeletionItem)
                .where(
                    DeletionItem.op_id == op_id,
                    DeletionItem.image_id.in_(batch),
                    DeletionItem.outcome.in_(UNSETTLED),
                )
                .values(outcome=outcome, message=message, settled_at=now)
                .execution_options(synchronize_session=False)
            )


def settle_rest_deleted(op_id: int, now: datetime) -> int:
    """Every still unsettled item of a finished operation was deleted, except those the
    metadata read before sending found missing: not found, never "deleted" (a relaxed API
    ignores unknown ids). Returns how many were deleted."""
    never_there = (
        select(ImageSnapshot.id)
        .where(
            ImageSnapshot.deletion_id == DeletionItem.deletion_id,
            ImageSnapshot.image_id == DeletionItem.image_id,
            ImageSnapshot.problem == GONE,
        )
        .exists()
    )
    db.session.execute(
        update(DeletionItem)
        .where(DeletionItem.op_id == op_id, DeletionItem.outcome.in_(UNSETTLED), never_there)
        .values(outcome="not_found", message=NEVER_THERE, settled_at=now)
        .execution_options(synchronize_session=False)
    )
    result = db.session.execute(
        update(DeletionItem)
        .where(DeletionItem.op_id == op_id, DeletionItem.outcome.in_(UNSETTLED))
        .values(outcome="deleted", message=None, settled_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
