"""Keeping what we delete: each image's full metadata, read just before its chunk is sent and
stored as an `ImageSnapshot` (or marked "cannot be restored" with the reason).

Many ids are read at once in the best way this API was found to accept (`wesog.many`: an `∩`
list, an `||` chain of `id=` filters, or single `GET /imgs/{id}` calls), learned once per
process: two or three calls for a chunk of 1,000 ids, not a thousand.
"""

from __future__ import annotations

from sqlalchemy import insert, select

from ..extensions import db
from ..models import ImageSnapshot, utcnow
from ..upstream import wesog_client
from ..wesog import Image
from ..wesog.many import ReadLimit, read_images

GONE = "not found upstream: nothing to restore"
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


def keep(deletion_id: int, image_ids: list[str]) -> None:
    """Store the snapshots of these ids that this deletion does not hold yet (commits)."""
    held = set(
        db.session.scalars(
            select(ImageSnapshot.image_id).where(
                ImageSnapshot.deletion_id == deletion_id, ImageSnapshot.image_id.in_(image_ids)
            )
        )
    )
    missing = [image_id for image_id in image_ids if image_id not in held]
    db.session.commit()  # no transaction stays open while we wait for the network
    if not missing:
        return
    read = read_metadata(missing)
    now = utcnow()
    rows = [
        {
            "deletion_id": deletion_id, "image_id": image_id, "taken_at": now,
            "data": dict(value.fields) if isinstance(value, Image) else None,
            "problem": None if isinstance(value, Image) else value,
        }
        for image_id, value in ((i, read[i]) for i in missing)
    ]  # fmt: skip
    # Core executemany: a chunk's thousand snapshots without the ORM's bookkeeping per row.
    db.session.execute(insert(ImageSnapshot.__table__), rows)
    db.session.commit()


def unrestorable(image_ids: list[str]) -> dict[str, str]:
    """For a confirmation page: the ids whose metadata cannot be read now, and why."""
    return {i: v for i, v in read_metadata(image_ids).items() if not isinstance(v, Image)}
