"""Pacing the chunks of a deletion: the undo window before the first one, and before each
next one a check that the request is still to be sent (not paused, cancelled or stopped on
failures), and how long a DELETE call and the claim around it may last. How many operations
may be in flight at once is the dispatcher's room in flight (`flight`, WESOG_MAX_INFLIGHT_OPS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from ...config import settings
from ...extensions import db
from ...models import DeletionRequest, utcnow
from .. import items, lifecycle
from ..lifecycle import DISPATCHER, TRANSITIONS
from ..outcomes.outcomes import settle_deletion
from ..outcomes.stopping import stop, stop_reason

CLAIM_MARGIN = 5.0  # seconds beyond the longest call before a claim counts as abandoned


def send_timeout(deletion: DeletionRequest) -> float | None:
    """Read timeout of the DELETE call: long for wait=true (upstream runs the whole op)."""
    return settings().wait_send_timeout if deletion.do_wait else None


def claim_seconds(timeout: float | None) -> float:
    """How long a claim lasts: the longest the DELETE call can take, plus a margin."""
    read = timeout if timeout is not None else settings().read_timeout
    return settings().connect_timeout + read + CLAIM_MARGIN


def chunk_size() -> int:
    """Ids per DELETE /imgs call."""
    return settings().chunk_size


@dataclass(frozen=True)
class Sends:
    """How far the sending of a deletion is: chunks sent out of all, first and last send."""

    chunks_sent: int
    chunks_total: int
    first_at: datetime | None
    last_at: datetime | None


def sends(deletion: DeletionRequest) -> Sends:
    """Its chunks sent so far (one operation each) and still to send, and when they went."""
    times = [op.created_at or op.first_seen_at for op in deletion.operations]
    sent = len(times)
    left = items.unsent_count(deletion.id)  # the chunk on its way counts as not sent yet
    size = chunk_size()
    return Sends(
        chunks_sent=sent,
        chunks_total=sent + (left + size - 1) // size,
        first_at=min(times) if times else None,
        last_at=max(times) if times else None,
    )


def release_scheduled(deletion_id: int) -> bool:
    """The undo window is over: `scheduled` becomes `pending`, atomically (commits).

    False when it was undone (or released) meanwhile: Undo and the sender race on this
    one row, and exactly one of them wins.
    """
    now = utcnow()
    result = db.session.execute(
        update(DeletionRequest)
        .where(
            DeletionRequest.id == deletion_id,
            DeletionRequest.state.in_(lifecycle.sources_of("release")),
            DeletionRequest.send_at <= now,
        )
        .values(state=TRANSITIONS["release"].target, next_attempt_at=None)
    )
    db.session.commit()
    return bool(getattr(result, "rowcount", 0) == 1)


def ready_for_chunk(deletion_id: int, sending: str) -> bool:
    """May the claimed request send its next chunk now? Commits; releases the claim if not."""
    deletion = db.session.get(DeletionRequest, deletion_id)
    if deletion is None:
        return False
    if deletion.state != "pending":  # paused, cancelled or stopped by someone meanwhile
        if deletion.message == sending:
            deletion.message = None
        db.session.commit()
        return False
    reason = stop_reason(deletion)
    if reason is not None:
        if stop(deletion, reason):
            settle_deletion(deletion)
        db.session.commit()
        return False
    db.session.commit()
    return True


def claim_chunk(deletion_id: int, item_ids: list[int], lease: datetime) -> bool:
    """Claim the next chunk for sending (`pending → sending`, its items `sending`), before any
    call for it; commits. False when a pause, cancel or stop came first: it is never sent."""
    if not lifecycle.move(deletion_id, "claim_chunk", DISPATCHER, next_attempt_at=lease):
        db.session.rollback()
        return False
    items.claim_chunk(item_ids)
    db.session.commit()
    return True
