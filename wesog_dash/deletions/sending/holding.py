"""Deleting only what can be restored: the items of a chunk whose images could not be kept are
held back (not sent) when the request asked for it (`DeletionRequest.restorable_only`).

An image whose metadata was not read — in time, or at all — cannot be restored once deleted.
By default it is sent anyway (its snapshot says why it cannot be restored): the safety net
never holds a deletion hostage. With `restorable_only`, its item ends `not_sent` with
HELD_BACK and the rest of the chunk goes. An image the API does not know is sent either way:
deleting it changes nothing.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from ...extensions import db
from ...models import DeletionRequest, ImageSnapshot, utcnow
from .. import items, lifecycle
from ..items import GONE
from ..lifecycle import DISPATCHER
from ..outcomes.outcomes import settle_deletion

HELD_BACK = "not sent: its metadata could not be kept for a restore ({why})"


def sendable(deletion_id: int, chunk: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The items of `chunk` that may be sent; the others are held back (commits)."""
    deletion = db.session.get(DeletionRequest, deletion_id)
    if deletion is None or not deletion.restorable_only:
        return chunk
    unkept = dict(
        db.session.execute(
            select(ImageSnapshot.image_id, ImageSnapshot.problem).where(
                ImageSnapshot.deletion_id == deletion_id,
                ImageSnapshot.image_id.in_([image_id for _, image_id in chunk]),
                ImageSnapshot.problem.is_not(None),  # `data` may be a JSON null, not NULL
            )
        ).all()
    )
    unkept = {image_id: why for image_id, why in unkept.items() if why != GONE}
    if not unkept:
        return chunk
    now, by_message = utcnow(), defaultdict(list)
    for item_id, image_id in chunk:
        if image_id in unkept:
            by_message[HELD_BACK.format(why=unkept[image_id] or "no reason given")].append(item_id)
    for message, item_ids in by_message.items():  # one UPDATE per reason, not per item
        items.set_outcome(item_ids, "not_sent", message=message, settled_at=now)
    if not items.has_unsent(deletion_id):
        _nothing_left(deletion)
    db.session.commit()
    return [(item_id, image_id) for item_id, image_id in chunk if image_id not in unkept]


def _nothing_left(deletion: DeletionRequest) -> None:
    """The last items were held back: the request stops sending and ends once settled."""
    if deletion.state not in ("pending", "sending", "unknown"):
        return  # paused, cancelled or stopped meanwhile: that state stands
    submitted_at = deletion.submitted_at or utcnow()
    if lifecycle.move(deletion.id, "all_sent", DISPATCHER, submitted_at=submitted_at):
        settle_deletion(db.session.get(DeletionRequest, deletion.id) or deletion)
