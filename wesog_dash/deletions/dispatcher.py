"""Sending a deletion upstream: the one place that calls DELETE for it, and its transitions.

A request is *claimed* before it is sent (attempts+1, a "being sent" marker and a
next_attempt_at past the longest the call can take), in its own commit. So no other sender
picks it up meanwhile, and a claim found expired means the sender died mid-call: the
request may have reached the API, so it becomes `unknown` for the reconciler, never re-sent.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, update

from .. import audit
from ..extensions import db
from ..models import DeletionRequest, utcnow
from ..operations import backoff_seconds, record_snapshot
from ..upstream import wesog_client
from ..wesog import (
    Operation,
    WesogAuthError,
    WesogClient,
    WesogError,
    WesogNotFound,
    WesogOutcomeUnknown,
    WesogRateLimited,
    WesogUnavailable,
    WesogValidationError,
)
from . import durable, items
from .flight import peek, room_in_flight, wait_for_room
from .keeping import keep
from .outcomes import finish_operation, settle_deletion
from .pacing import (
    chunk_size,
    claim_seconds,
    config_seconds,
    ready_for_chunk,
    release_scheduled,
    send_timeout,
)

# Held while deciding there is room for one more operation and sending it, so that two
# senders of this process never both take the last room.
ROOM_LOCK = threading.Lock()
SENDING = "being sent to the Wesog API"
ABANDONED = "the dashboard stopped while sending it; the outcome is unknown"
REJECTED_BY = (WesogAuthError, WesogValidationError, WesogNotFound)
OWNED = "the Wesog API named operation #{op}, which another deletion already owns"


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
    if deletion is None or deletion.state != "pending":
        return deletion
    timeout = timeout if timeout is not None else send_timeout(deletion)
    due = deletion.next_attempt_at is None or deletion.next_attempt_at <= utcnow()
    if deletion.message == SENDING and due:
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
    options = {"wait": deletion.do_wait, "urgent": deletion.do_urgent, "strict": deletion.do_strict}
    batch = deletion.item_count > 1
    capped = batch and not deletion.do_wait  # a blocking send is in flight only while it runs
    db.session.commit()  # no transaction stays open while we wait for the network
    client = wesog_client()
    # Losing the database between chunks hands the claim back: nothing is on its way.
    with durable.handing_back(deletion_id, SENDING, claim_seconds(timeout)):
        while ready_for_chunk(deletion_id, SENDING):
            with ROOM_LOCK if capped else nullcontext():
                if capped and not has_room(client):
                    wait_for_room(_get(deletion_id))
                    break
                # The images' metadata, for a restore; what may be sent (see `keeping.keep`).
                chunk = keep(deletion_id, items.unsent_chunk(deletion_id, chunk_size()))
                db.session.commit()
                if not chunk or not _send_chunk(
                    client, deletion_id, chunk, batch, options, timeout, actor
                ):
                    break
    db.session.commit()
    return _get(deletion_id)


def has_room(client: WesogClient) -> bool:
    """Room for one more operation, after a look at the list when the room seems full."""
    return room_in_flight() > 0 or (peek(client) and room_in_flight() > 0)


def _send_chunk(
    client: WesogClient,
    deletion_id: int,
    chunk: list[tuple[int, str]],
    batch: bool,
    options: dict[str, bool],
    timeout: float | None,
    actor: str | None,
) -> bool:
    """One DELETE call and its answer, committed; False when the request must stop here."""
    item_ids, image_ids = [item_id for item_id, _ in chunk], [image_id for _, image_id in chunk]
    try:
        op = _call(client, image_ids, batch, options, timeout)
    except WesogError as exc:
        error = exc  # the answer is written even through a database away for a moment
        durable.write_answer(
            lambda: _failed(deletion_id, item_ids, error, actor, batch), claim_seconds(timeout)
        )
        return False

    def record() -> None:
        if not attach(_get(deletion_id), op, item_ids, actor=actor):
            # Our own answer names an operation another deletion already owns: owners never
            # change, so this chunk is settled from the images' state instead.
            mark_unknown(_get(deletion_id), item_ids, OWNED.format(op=op.op_id), actor)

    durable.write_answer(record, claim_seconds(timeout))
    return True


def _get(deletion_id: int) -> DeletionRequest:
    deletion = db.session.get(DeletionRequest, deletion_id)
    assert deletion is not None
    return deletion


def _call(
    client: WesogClient,
    image_ids: list[str],
    batch: bool,
    options: dict[str, bool],
    timeout: float | None,
) -> Operation:
    if batch:
        return client.delete_images(image_ids, timeout=timeout, **options)
    return client.delete_image(image_ids[0], timeout=timeout, **options)


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
        retry_later(deletion, exc.message, getattr(exc, "retry_after", None))


def attach(
    deletion: DeletionRequest,
    op: Operation,
    item_ids: list[int],
    *,
    actor: str | None = None,
    details: dict[str, Any] | None = None,
) -> bool:
    """Store the operation that carries these items and move the request on (caller commits).

    False, changing no item, when the operation already belongs to another deletion.
    """
    row = record_snapshot(op, origin="dashboard", deletion_id=deletion.id)
    if row.deletion_id != deletion.id:
        return False
    assert op.op_id is not None
    db.session.flush()
    items.link_items(item_ids, op.op_id)
    audit.record(
        "deletion.submitted", actor=actor, deletion_id=deletion.id, op_id=op.op_id,
        image_id=_only_image(deletion), details={"items": len(item_ids), **(details or {})},
    )  # fmt: skip
    if deletion.state not in ("pending", "unknown"):
        pass  # paused, cancelled or stopped meanwhile: that state stands
    elif not items.has_unsent(deletion.id):
        deletion.state, deletion.message, deletion.next_attempt_at = "submitted", None, None
        deletion.submitted_at = deletion.submitted_at or utcnow()
    elif deletion.state == "unknown":
        deletion.state, deletion.message, deletion.next_attempt_at = "pending", None, None
    if row.is_finished:
        db.session.flush()
        finish_operation(row)
    return True


def _only_image(deletion: DeletionRequest) -> str | None:
    return items.first_image_id(deletion.id) if deletion.item_count == 1 else None


def reject(
    deletion: DeletionRequest, message: str, actor: str | None, *, not_found: bool = False
) -> None:
    """Upstream said no: the unsent items fail with its message (caller commits)."""
    now = utcnow()
    # Items settled already (e.g. inferred from the image's state) keep their outcome.
    outcome = "not_found" if not_found else "failed"
    refused = items.refuse_unsent(deletion.id, outcome, message, now)
    audit.record(
        "deletion.rejected", actor=actor, deletion_id=deletion.id, outcome="rejected",
        image_id=_only_image(deletion), details={"message": message, "items": refused},
    )  # fmt: skip
    deletion.message, deletion.next_attempt_at = message, None
    if items.any_sent(deletion.id):
        # Earlier chunks were accepted: their operations still run and settle the request.
        deletion.state = "submitted"
        deletion.submitted_at = deletion.submitted_at or now
        settle_deletion(deletion)
    else:
        deletion.state, deletion.finished_at = "rejected", now


def mark_unknown(
    deletion: DeletionRequest, item_ids: list[int], message: str, actor: str | None
) -> None:
    """The call may or may not have happened: reconcile later (caller commits)."""
    items.set_outcome(item_ids, "unknown")
    grace = config_seconds("WESOG_RECONCILE_GRACE", 30.0)
    deletion.state, deletion.message = "unknown", message
    deletion.next_attempt_at = utcnow() + timedelta(seconds=grace)
    audit.record(
        "deletion.unknown", actor=actor, deletion_id=deletion.id, outcome="unknown",
        image_id=_only_image(deletion), details={"message": message, "items": len(item_ids)},
    )  # fmt: skip


def retry_later(deletion: DeletionRequest, message: str, retry_after: float | None) -> None:
    """Upstream did not carry it out (down, 5xx, 429): stay pending and back off."""
    if deletion.state != "pending":
        deletion.message = message  # paused or cancelled meanwhile: that state stands
        return
    delay = backoff_seconds(deletion.attempts - 1)
    if retry_after:
        delay = max(delay, retry_after)
    deletion.state, deletion.message = "pending", message
    deletion.next_attempt_at = utcnow() + timedelta(seconds=delay)


def abandon(deletion: DeletionRequest) -> None:
    """A claim expired without an answer: the chunk in flight is in doubt (caller commits)."""
    in_flight = items.unsent_chunk(deletion.id, chunk_size())
    mark_unknown(deletion, [item_id for item_id, _ in in_flight], ABANDONED, "system")
