"""Settling an `unknown` deletion from evidence only: did the DELETE whose answer we lost (or
whose operation the API forgot) happen?

1. `GET /ops`: while a candidate operation (see `evidence`) still runs, wait — it may be ours.
2. `GET /imgs/{id}` for each image in doubt.
3. Exactly one finished candidate that agrees with the images, that no other deletion of ours
   owns or could own: linked (claimed under the database's lock) and its outcomes applied.
4. Otherwise each image settles from its own state, marked *inferred*: gone → "deleted
   (operation unknown)"; still there → "not deleted" (failed, offered for retry).
Re-sending is never done here.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from ...extensions import db
from ...models import DeletionItem, DeletionRequest, utcnow
from ...operations import backoff_seconds
from ...upstream import wesog_client
from ...wesog import OperationSnapshot, WesogClient, WesogError
from .. import items, lifecycle
from ..lifecycle import DISPATCHER
from . import answers
from .evidence import Shape, candidates, consistent, is_gone, rivals
from .outcomes import settle_deletion

NOT_CARRIED_OUT = "not deleted: the image is still there (inferred; offered for retry)"
GONE = "deleted (operation unknown): the image is gone (inferred)"
NOT_SENT = "not carried out upstream: the images in doubt are still there (inferred)"
SETTLED = "settled from the images' current state (inferred)"
INFERRED_MESSAGES = (NOT_SENT, SETTLED)  # a deletion settled by inference says so
WAITING = "waiting for operation #{op}, which may be this deletion's"
TAKEN = "operation #{op} was claimed by another deletion meanwhile"


def reconcile(deletion_id: int) -> DeletionRequest | None:
    """Settle one due `unknown` request from what upstream shows now (commits)."""
    deletion = db.session.get(DeletionRequest, deletion_id)
    if deletion is None or deletion.state != "unknown":
        return deletion
    doubt = [(item.id, item.image_id) for item in deletion.items if item.outcome == "unknown"]
    unlinked = [item.id for item in deletion.items if item.outcome == "unknown" and not item.op_id]
    if not doubt:
        _resume(deletion)
        db.session.commit()
        return deletion
    # The lost DELETE's own ids when some are unlinked; else those of a lost operation.
    linkable = [pair for pair in doubt if pair[0] in unlinked] or doubt
    shape, seen = Shape.of(deletion, len(linkable)), deletion.attempts
    db.session.commit()  # no transaction stays open while we wait for the network
    try:
        found = _gather(wesog_client(), deletion_id, shape, doubt, linkable)
    except WesogError as exc:
        return _later(deletion_id, exc.message)
    if isinstance(found, str):
        return _later(deletion_id, found)
    ours, gone = found
    if not _take_turn(deletion_id, seen):
        return db.session.get(DeletionRequest, deletion_id)  # another reconcile got there
    deletion = db.session.get(DeletionRequest, deletion_id)
    assert deletion is not None
    if unlinked and ours is not None and not rivals(deletion, ours):
        return _link(deletion, ours, unlinked)
    _settle_by_presence(deletion, gone)
    db.session.commit()
    return deletion


def _gather(
    client: WesogClient,
    deletion_id: int,
    shape: Shape,
    doubt: list[tuple[int, str]],
    linkable: list[tuple[int, str]],
) -> tuple[OperationSnapshot | None, dict[int, bool]] | str:
    """The one consistent candidate (or None) and which images are gone; or why to wait."""
    found = candidates(client.list_operations(), shape, deletion_id)
    db.session.commit()
    running = [op for op in found if not op.is_finished]
    if running:
        return WAITING.format(op=running[0].op_id)
    gone = {item_id: is_gone(client, image_id) for item_id, image_id in doubt}
    agreeing = [op for op in found if consistent(op, linkable, gone)]
    return (agreeing[0] if len(agreeing) == 1 else None), gone


def _take_turn(deletion_id: int, seen: int) -> bool:
    """Only one reconcile of a deletion writes: a conditional UPDATE on what it read first
    (the database's write lock decides; the loser sees 0 rows and leaves)."""
    result = db.session.execute(
        update(DeletionRequest)
        .where(
            DeletionRequest.id == deletion_id,
            DeletionRequest.state == "unknown",
            DeletionRequest.attempts == seen,
        )
        .values(attempts=DeletionRequest.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        db.session.rollback()
        return False
    db.session.expire_all()
    return True


def _link(
    deletion: DeletionRequest, op: OperationSnapshot, item_ids: list[int]
) -> DeletionRequest | None:
    """Tie the certain operation to the deletion; if another took it first, try again later."""
    details = {"reconciled": True}
    if not answers.attach(deletion, op, item_ids, actor="system", details=details):
        db.session.rollback()
        return _later(deletion.id, TAKEN.format(op=op.op_id))
    db.session.commit()
    return deletion


def settle_item(item: DeletionItem, gone: bool) -> None:
    """An inferred outcome from the image's state (caller commits)."""
    item.outcome = "deleted" if gone else "failed"
    item.message = GONE if gone else NOT_CARRIED_OUT
    item.inferred, item.settled_at = True, utcnow()


def _settle_by_presence(deletion: DeletionRequest, gone: dict[int, bool]) -> None:
    """No certain operation: each image in doubt settles from its own state, inferred."""
    for item in deletion.items:
        if item.id in gone:
            settle_item(item, gone[item.id])
    nothing_sent = all(item.op_id is None for item in deletion.items)
    if nothing_sent and not any(gone.values()):
        answers.reject(deletion, NOT_SENT, "system")
        return
    deletion.message = SETTLED
    _resume(deletion)
    settle_deletion(deletion, details={"reconciled": True, "inferred": len(gone)})


def _resume(deletion: DeletionRequest) -> None:
    """Nothing is in doubt any more: back to sending the rest, or to watching the operations."""
    db.session.flush()
    if items.has_unsent(deletion.id):
        lifecycle.move(deletion.id, "reconciled", DISPATCHER, next_attempt_at=None)
        return
    submitted_at = deletion.submitted_at or utcnow()
    lifecycle.move(
        deletion.id, "all_sent", DISPATCHER, next_attempt_at=None, submitted_at=submitted_at
    )


def _later(deletion_id: int, message: str) -> DeletionRequest | None:
    """Not settled yet (upstream unreachable, or a candidate still runs): keep it unknown and
    try again after a back-off."""
    db.session.rollback()
    deletion = db.session.get(DeletionRequest, deletion_id)
    if deletion is None or deletion.state != "unknown":
        return deletion
    deletion.attempts += 1
    delay = backoff_seconds(deletion.attempts)
    deletion.next_attempt_at = utcnow() + timedelta(seconds=delay)
    deletion.message = f"reconciling: {message}"
    db.session.commit()
    return deletion
