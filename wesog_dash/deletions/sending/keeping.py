"""Keeping what we delete: each image's full metadata, read just before its chunk is sent and
stored as an `ImageSnapshot` (or marked "cannot be restored" with the reason).

Many ids are read at once in the best way this API was found to accept (`wesog.many`: an `∩`
list, an `||` chain of `id=` filters, or single `GET /imgs/{id}` calls), learned once per
process: two or three calls for a chunk of 1,000 ids, not a thousand.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from flask import current_app, g
from sqlalchemy import insert, select

from ...config import settings
from ...extensions import db
from ...models import ImageSnapshot, utcnow
from ...upstream import GUARD, wesog_client
from ...wesog import Image
from ...wesog.many import ReadLimit, read_images
from .. import items
from ..items import GONE
from . import holding

log = logging.getLogger(__name__)
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


class ReadAhead:
    """Reads the next chunk's metadata in a thread while this chunk is stored and sent.

    The API's search time (~a fifth of a chunk's time on a fast API) then overlaps our own
    work instead of adding to it. Only answers are taken from it (an image or "not found");
    what it could not read is read again in `keep`. The sender's guard (the poller's lease
    fence) goes with it, so a poller that lost its lease reads nothing ahead either.
    """

    def __init__(self) -> None:
        self._app = current_app._get_current_object()  # type: ignore[attr-defined]
        self._guard = g.get(GUARD)
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[dict[str, Image | str]] | None = None

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def start(self, image_ids: list[str]) -> None:
        """Begin reading these ids (unless a read is already on its way)."""
        if not image_ids or self._pending is not None:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="wesog-read-ahead")
        self._pending = self._pool.submit(self._read, image_ids)

    def take(self, image_ids: list[str]) -> dict[str, Image | str]:
        """What was read ahead for these ids (waiting for a read still on its way)."""
        pending, self._pending = self._pending, None
        if pending is None:
            return {}
        try:
            read = pending.result()
        except Exception:  # only a head start: `keep` reads what is missing
            log.exception("reading the next chunk's metadata ahead failed; it is read in turn")
            return {}
        return {
            image_id: value
            for image_id in image_ids
            if isinstance(value := read.get(image_id), Image) or value == GONE
        }

    def _read(self, image_ids: list[str]) -> dict[str, Image | str]:
        with self._app.app_context():
            if self._guard is not None:
                setattr(g, GUARD, self._guard)
            return read_metadata(image_ids, chunk_limit())


def keep(
    deletion_id: int, chunk: list[tuple[int, str]], ahead: ReadAhead | None = None
) -> list[tuple[int, str]]:
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
            read = ahead.take(missing) if ahead is not None else {}
            unread = [image_id for image_id in missing if image_id not in read]
            if unread:
                read.update(read_metadata(unread, chunk_limit()))
            if ahead is not None:
                # The next chunk's images (this one is claimed: they are the next unsent).
                ahead.start([image_id for _, image_id in items.unsent_chunk(deletion_id, size)])
                db.session.commit()
            _store(deletion_id, missing, read)
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
