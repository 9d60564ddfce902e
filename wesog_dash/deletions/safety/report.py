"""The completion report of a deletion: every item as CSV (what a takedown requester gets back),
and the failed ids to copy.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import select

from ...audit.export import neutralise
from ...extensions import db
from ...models import DeletionItem, ImageSnapshot
from .retry import RETRYABLE

COLUMNS = ("image_id", "title", "outcome", "message", "operation", "time")
BATCH = 1000


def _titles(deletion_id: int, image_ids: list[str]) -> dict[str, str]:
    """The title each image had when it was kept (its snapshot), when there is one."""
    query = select(ImageSnapshot.image_id, ImageSnapshot.data).where(
        ImageSnapshot.deletion_id == deletion_id, ImageSnapshot.image_id.in_(image_ids)
    )
    return {
        image_id: str(data.get("title") or "")
        for image_id, data in db.session.execute(query)
        if isinstance(data, dict)
    }


def _line(values: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([neutralise(value) for value in values])
    return buffer.getvalue()


def report_chunks(deletion_id: int) -> Iterator[str]:
    """The CSV, a header then one row per item in request order, a batch at a time."""
    yield _line(list(COLUMNS))
    after = -1
    while True:
        items = list(
            db.session.scalars(
                select(DeletionItem)
                .where(DeletionItem.deletion_id == deletion_id, DeletionItem.position > after)
                .order_by(DeletionItem.position)
                .limit(BATCH)
            )
        )
        if not items:
            return
        titles = _titles(deletion_id, [item.image_id for item in items])
        for item in items:
            yield _line(
                [
                    item.image_id,
                    titles.get(item.image_id, ""),
                    item.outcome,
                    item.message or "",
                    str(item.op_id) if item.op_id else "",
                    item.settled_at.isoformat() if item.settled_at else "",
                ]
            )
        after = items[-1].position


def failed_id_text(deletion_id: int) -> str:
    """The failed ids, one per line (for "Copy failed ids")."""
    query = select(DeletionItem.image_id).where(
        DeletionItem.deletion_id == deletion_id, DeletionItem.outcome.in_(RETRYABLE)
    )
    return "\n".join(db.session.scalars(query.order_by(DeletionItem.position)))
