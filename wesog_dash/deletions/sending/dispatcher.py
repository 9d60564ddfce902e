"""Sending a deletion upstream: the one place that calls DELETE for it, and its transitions.

A request is *claimed* before it is sent (attempts+1, a "being sent" marker and a
next_attempt_at past the longest the call can take), in its own commit. So no other sender
picks it up meanwhile. Each chunk's claim is noted `PREPARING` and, in a commit of its own
just before the DELETE leaves, `ON_ITS_WAY`. A claim found expired while still `PREPARING`
was provably never sent (the note and a release are one row's conditional UPDATEs: exactly
one wins), so it is handed back and sent once; one found `ON_ITS_WAY` may have reached the
API, so it becomes `unknown` for the reconciler, never re-sent.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, or_, update

from ...extensions import db
from ...models import DeletionRequest, utcnow
from ...upstream import wesog_client
from ...wesog import (
    OperationSnapshot,
    WesogAuthError,
    WesogClient,
    WesogError,
    WesogNotFound,
    WesogOutcomeUnknown,
    WesogRateLimited,
    WesogUnavailable,
    WesogValidationError,
)
from .. import items, lifecycle
from ..lifecycle import DISPATCHER
from ..outcomes.answers import abandon, attach, mark_unknown, reject, retry_later
from . import durable
from .flight import peek, room_in_flight, wait_for_room
from .keeping import ReadAhead, keep
from .pacing import (
    chunk_size,
    claim_chunk,
    claim_seconds,
    ready_for_chunk,
    release_scheduled,
    send_timeout,
)

# Held while deciding there is room for one more operation and sending it, so that two
# senders of this process never both take the last room.
ROOM_LOCK = threading.Lock()
SENDING = "being sent to the Wesog API"
PREPARING = "a chunk is claimed; nothing of it has left for the Wesog API yet"
ON_ITS_WAY = "a chunk is on its way to the Wesog API"
# A chunk claimed in one of these states still goes: a pause, cancel or stop lets it finish,
# and a request whose other items were all held back is `submitted` before its last chunk.
CLAIMED = ("sending", "pausing", "cancelling", "stopping", "submitted")
REJECTED_BY = (WesogAuthError, WesogValidationError, WesogNotFound)
OWNED = "the Wesog API named operation #{op}, which another deletion already owns"


@dataclass(frozen=True)
class SendPlan:
    """How every chunk of one deletion goes out: which call, its flags, its timeout, for whom."""

    batch: bool  # DELETE /imgs with a list, rather than DELETE /imgs/{id}
    options: dict[str, bool]  # wait, urgent, strict
    timeout: float | None
    actor: str | None
    attempt: int  # the request's claim (its attempts) these chunks go under


def mark_sending(deletion: DeletionRequest, timeout: float | None) -> None:
    """Claim a request that is not in the database yet (the caller commits)."""
    deletion.attempts = (deletion.attempts or 0) + 1
    deletion.message = SENDING
    deletion.next_attempt_at = utcnow() + timedelta(seconds=claim_seconds(timeout))


def claim(deletion_id: int, timeout: float | None) -> bool:
    """Atomically claim a due pending request for sending; commits; False when not ours."""
    now = utcnow()
    result = db.session.execute(
        update(DeletionRequest)
        .where(
            DeletionRequest.id == deletion_id,
            DeletionRequest.state == "pending",
            or_(DeletionRequest.next_attempt_at.is_(None), DeletionRequest.next_attempt_at <= now),
            or_(DeletionRequest.message.is_(None), DeletionRequest.message != SENDING),
        )
        .values(
            attempts=DeletionRequest.attempts + 1,
            message=SENDING,
            next_attempt_at=now + timedelta(seconds=claim_seconds(timeout)),
        )
    )
    db.session.commit()
    return bool(getattr(result, "rowcount", 0) == 1)


def send(
    deletion_id: int, *, timeout: float | None = None, actor: str | None = None
) -> DeletionRequest | None:
    """Send a due pending request upstream (claiming it first); returns it as it now stands."""
    deletion = db.session.get(DeletionRequest, deletion_id)
    if deletion is not None and deletion.state == "scheduled":
        release_scheduled(deletion_id)  # the undo window is over, unless undone meanwhile
        deletion = db.session.get(DeletionRequest, deletion_id)
    if deletion is None or deletion.state not in ("pending", "sending"):
        return deletion
    timeout = timeout if timeout is not None else send_timeout(deletion)
    due = deletion.next_attempt_at is None or deletion.next_attempt_at <= utcnow()
    if deletion.state == "sending" and not due:
        return deletion  # its chunk is on its way: the sender holding the claim answers it
    if deletion.state == "sending" and due and release_unsent(deletion_id):
        deletion = _get(deletion_id)  # never sent: claimed again and sent below
    elif deletion.state == "sending" or (deletion.message == SENDING and due):
        abandon(deletion)
        db.session.commit()
        return deletion
    if not claim(deletion_id, timeout):
        return db.session.get(DeletionRequest, deletion_id)
    return send_claimed(deletion_id, timeout=timeout, actor=actor)


def send_claimed(
    deletion_id: int, *, timeout: float | None = None, actor: str | None = None
) -> DeletionRequest:
    """Send the unsent chunks of a claimed request back to back, while there is room in flight.

    Each answer is committed before the next chunk goes; before each, `ready_for_chunk`.
    Without room, the claim is handed back (`WAITING`) until one of our operations ends.
    """
    deletion = _get(deletion_id)
    plan = SendPlan(
        batch=deletion.item_count > 1,
        options={
            "wait": deletion.do_wait,
            "urgent": deletion.do_urgent,
            "strict": deletion.do_strict,
        },
        timeout=timeout,
        actor=actor,
        attempt=deletion.attempts,
    )
    capped = plan.batch and not deletion.do_wait  # a blocking send is in flight only while it runs
    db.session.commit()  # no transaction stays open while we wait for the network
    client = wesog_client()
    # Losing the database between chunks hands the claim back: nothing is on its way.
    handing_back = durable.handing_back(deletion_id, SENDING, claim_seconds(timeout))
    with handing_back, ReadAhead() as ahead:
        while ready_for_chunk(deletion_id, SENDING):
            with ROOM_LOCK if capped else nullcontext():
                if capped and not has_room(client, deletion_id):
                    wait_for_room(_get(deletion_id))
                    break
                chunk = items.unsent_chunk(deletion_id, chunk_size())
                lease = utcnow() + timedelta(seconds=claim_seconds(timeout))
                if not chunk or not claim_chunk(deletion_id, [i for i, _ in chunk], lease):
                    break  # paused, cancelled or stopped before this chunk: it is never sent
                note_chunk(deletion_id, plan.attempt, PREPARING)
                # The images' metadata, for a restore; what may be sent (see `keeping.keep`).
                chunk = keep(deletion_id, chunk, ahead)
                if not chunk:  # every image of it held back: the claim goes back
                    lifecycle.move(deletion_id, "chunk_answered", DISPATCHER, message=None)
                    clear_note(deletion_id)  # ended meanwhile (all held back): no note
                    continue
                if not _send_chunk(client, deletion_id, chunk, plan):
                    break
    db.session.commit()
    return _get(deletion_id)


def has_room(client: WesogClient, deletion_id: int) -> bool:
    """Room for one more operation of this deletion, after a look at the list when it seems
    full."""
    return room_in_flight(deletion_id) > 0 or (peek(client) and room_in_flight(deletion_id) > 0)


def _send_chunk(
    client: WesogClient, deletion_id: int, chunk: list[tuple[int, str]], plan: SendPlan
) -> bool:
    """One DELETE call and its answer, committed; False when the request must stop here."""
    item_ids, image_ids = [item_id for item_id, _ in chunk], [image_id for _, image_id in chunk]
    actor, within = plan.actor, claim_seconds(plan.timeout)
    if not note_chunk(deletion_id, plan.attempt, ON_ITS_WAY):
        return False  # our claim was released as never sent: another sender has it now
    try:
        op = _call(client, image_ids, plan)
    except WesogError as exc:
        error = exc  # the answer is written even through a database away for a moment
        durable.write_answer(
            lambda: _failed(deletion_id, item_ids, error, actor, plan.batch), within
        )
        return False

    def record() -> None:
        if not attach(_get(deletion_id), op, item_ids, actor=actor):
            # Our own answer names an operation another deletion already owns: owners never
            # change, so this chunk is settled from the images' state instead.
            mark_unknown(_get(deletion_id), item_ids, OWNED.format(op=op.op_id), actor)

    durable.write_answer(record, within)
    return True


def note_chunk(deletion_id: int, attempt: int, note: str) -> bool:
    """Note how far our claimed chunk is (commits); False when the claim is no longer ours.

    Only a request still `sending` shows the note; in another state an earlier note is
    cleared and any other message (a stop's reason, say) kept.
    """
    kept = case(
        (DeletionRequest.message.in_((PREPARING, ON_ITS_WAY)), None),
        else_=DeletionRequest.message,
    )
    result = db.session.execute(
        update(DeletionRequest)
        .where(
            DeletionRequest.id == deletion_id,
            DeletionRequest.attempts == attempt,
            DeletionRequest.state.in_(CLAIMED),
        )
        .values(message=case((DeletionRequest.state == "sending", note), else_=kept))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(getattr(result, "rowcount", 0) == 1)


def clear_note(deletion_id: int) -> None:
    """No chunk of ours is claimed any more: our note goes, whatever the state (commits)."""
    db.session.execute(
        update(DeletionRequest)
        .where(
            DeletionRequest.id == deletion_id,
            DeletionRequest.message.in_((PREPARING, ON_ITS_WAY)),
        )
        .values(message=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def release_unsent(deletion_id: int) -> bool:
    """An expired claim whose chunk never left (`PREPARING`): its items are unsent again and
    the request pending (commits); False when the chunk may have left, or it is not due."""
    claimed_only = (
        DeletionRequest.message == PREPARING,
        DeletionRequest.next_attempt_at <= utcnow(),
    )
    values = {"message": None, "next_attempt_at": None}
    if not lifecycle.move(deletion_id, "chunk_answered", DISPATCHER, *claimed_only, **values):
        db.session.rollback()
        return False
    items.unclaim([item_id for item_id, _ in items.in_flight(deletion_id)])
    db.session.commit()
    return True


def _get(deletion_id: int) -> DeletionRequest:
    deletion = db.session.get(DeletionRequest, deletion_id)
    assert deletion is not None
    return deletion


def _call(client: WesogClient, image_ids: list[str], plan: SendPlan) -> OperationSnapshot:
    if plan.batch:
        return client.delete_images(image_ids, timeout=plan.timeout, **plan.options)
    return client.delete_image(image_ids[0], timeout=plan.timeout, **plan.options)


def _failed(
    deletion_id: int, item_ids: list[int], exc: WesogError, actor: str | None, batch: bool
) -> None:
    deletion = _get(deletion_id)
    if isinstance(exc, REJECTED_BY):
        reject(deletion, exc.message, actor, not_found=isinstance(exc, WesogNotFound) and not batch)
    elif isinstance(exc, WesogOutcomeUnknown) or not isinstance(
        exc, (WesogUnavailable, WesogRateLimited)
    ):
        # Sent, but no readable answer: it may have happened. Never re-send blindly.
        mark_unknown(deletion, item_ids, exc.message, actor)
    else:
        retry_later(deletion, item_ids, exc.message, getattr(exc, "retry_after", None))
