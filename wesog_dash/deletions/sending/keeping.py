"""Keeping what we delete: each image's full metadata, read just before its chunk is sent and
stored as an `ImageSnapshot` (or marked "cannot be restored" with the reason).

Many ids are read at once in the best way this API was found to accept (`wesog.many`: an `∩`
list, an `||` chain of `id=` filters, or single `GET /imgs/{id}` calls), learned once per
process: two or three calls for a chunk of 1,000 ids, not a thousand.
"""

from __future__ import annotations

from sqlalchemy import insert, select

from ...config import settings
from ...extensions import db
from ...models import ImageSnapshot, utcnow
from ...upstream import wesog_client
from ...wesog import Image
from ...wesog.many import ReadLimit, read_images
from .. import items
from ..items import GONE
from . import holding

NOT_IN_TIME = "cannot be restored: metadata not read in time"


def read_metadata(image_ids: list[str], limit: ReadLimit | None = None) -> dict[str, Image | str]:
    """Each id's Image, or the reason it could not be read (never raises for upstream trouble).

    With a `limit`, the ids it leaves unread get NOT_IN_TIME.
    """
    read = read_images(wesog_client(), image_ids, limit)
    found: dict[str, Image | str] = {}
    for image_id in image_ids:
        value = read.get(image_id, NOT_IN_TIME)
        found[image_id] = GONE if value is None else value
    return found


def chunk_limit() -> ReadLimit:
    """The share of a chunk's calls and time its metadata read may take (settings)."""
    return ReadLimit(
        calls=settings().snapshot_calls,
        seconds=settings().snapshot_seconds,
    )


def keep(deletion_id: int, chunk: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Keep the metadata of a chunk's images and return the items that may be sent (commits).

    The read is bounded (`chunk_limit`): an image not read in time is sent anyway, its snapshot
    marked NOT_IN_TIME — unless the request asked to delete only what can be restored; then
    the items whose images could not be kept are held back (`holding`), and when a whole chunk
    is held back the next one is kept instead. Empty: nothing is left to send.
    """
    size = len(chunk)
    while chunk:
        image_ids = [image_id for _, image_id in chunk]
        held = set(
            db.session.scalars(
                select(ImageSnapshot.image_id).where(
                    ImageSnapshot.deletion_id == deletion_id,
                    ImageSnapshot.image_id.in_(image_ids),
                )
            )
        )
        missing = [image_id for image_id in image_ids if image_id not in held]
        db.session.commit()  # no transaction stays open while we wait for the network
        if missing:
            _store(deletion_id, missing, read_metadata(missing, chunk_limit()))
        sendable = holding.sendable(deletion_id, chunk)
        db.session.commit()  # nor while the chunk is sent
        if sendable:
            return sendable
        chunk = items.unsent_chunk(deletion_id, size)
    db.session.commit()
    return []


def _store(deletion_id: int, image_ids: list[str], read: dict[str, Image | str]) -> None:
    now = utcnow()
    rows = [
        {
            "deletion_id": deletion_id,
            "image_id": image_id,
            "taken_at": now,
            "data": dict(value.fields) if isinstance(value, Image) else None,
            "problem": None if isinstance(value, Image) else value,
        }
        for image_id, value in ((i, read[i]) for i in image_ids)
    ]
    # Core executemany: a chunk's thousand snapshots without the ORM's bookkeeping per row.
    db.session.execute(insert(ImageSnapshot.__table__), rows)
    db.session.commit()


def unrestorable(image_ids: list[str]) -> dict[str, str]:
    """For a confirmation page: the ids whose metadata cannot be read now, and why."""
    return {i: v for i, v in read_metadata(image_ids).items() if not isinstance(v, Image)}
