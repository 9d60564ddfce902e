"""Settling an `unknown` deletion: did the DELETE we lost the answer of happen or not?

First `GET /ops`: an unlinked `del` operation of the right size and options, created after the
request, is ours (linked, `submitted`). Failing that, `GET /imgs/{id}` per image in doubt:
all gone means done; all still there (and no operation) means it was not carried out
(`rejected`); a mix is settled item by item. Re-sending is never done blindly.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import DeletionRequest, Operation, utcnow
from ..operations import backoff_seconds
from ..upstream import wesog_client
from ..wesog import Operation as Snapshot
from ..wesog import WesogClient, WesogError, WesogNotFound
from . import dispatcher, items
from .outcomes import settle_deletion

CLOCK_SKEW = timedelta(seconds=30)  # upstream's clock may run a little behind ours
NOT_CARRIED_OUT = "not carried out upstream (reconciled)"
GONE = "reconciled: images are gone"


def reconcile(deletion_id: int) -> DeletionRequest | None:
    """Settle one due `unknown` request from what upstream shows now (commits)."""
    deletion = db.session.get(DeletionRequest, deletion_id)
    if deletion is None or deletion.state != "unknown":
        return deletion
    doubt = items.in_doubt(deletion.id)
    if not doubt:
        _resume(deletion)
        db.session.commit()
        return deletion
    since, options = deletion.created_at - CLOCK_SKEW, _options(deletion)
    db.session.commit()  # no transaction stays open while we wait for the network
    client = wesog_client()
    try:
        listed = client.list_operations()
        match = _first_unlinked([op for op in listed if _fits(op, len(doubt), since, options)])
        gone = None if match else [_is_gone(client, image_id) for _, image_id in doubt]
    except WesogError as exc:
        _later(deletion_id, exc.message)
        return db.session.get(DeletionRequest, deletion_id)
    deletion = db.session.get(DeletionRequest, deletion_id)
    if deletion is None or deletion.state != "unknown":
        return deletion  # settled meanwhile by someone else
    item_ids = [item_id for item_id, _ in doubt]
    if match is not None:
        dispatcher.attach(deletion, match, item_ids, actor="system", details={"reconciled": True})
    else:
        _settle_by_presence(deletion, dict(zip(item_ids, gone or [], strict=True)))
    db.session.commit()
    return deletion


def _options(deletion: DeletionRequest) -> tuple[bool, bool, bool]:
    return (deletion.do_wait, deletion.do_urgent, deletion.do_strict)


def _fits(op: Snapshot, size: int, since: datetime, options: tuple[bool, bool, bool]) -> bool:
    """An upstream operation that could be the lost DELETE of `size` ids."""
    return (
        op.op_id is not None
        and op.method == "del"
        and op.num_total == size
        and op.created_at is not None
        and op.created_at >= since
        and (op.do_wait, op.do_urgent, op.do_strict) == options
    )


def _first_unlinked(candidates: list[Snapshot]) -> Snapshot | None:
    """The oldest candidate that no deletion of ours already owns."""
    if not candidates:
        return None
    ids = [op.op_id for op in candidates]
    owned = set(
        db.session.scalars(
            select(Operation.op_id).where(
                Operation.op_id.in_(ids), Operation.deletion_id.is_not(None)
            )
        )
    )
    db.session.commit()
    free = [op for op in candidates if op.op_id not in owned]
    return min(free, key=lambda op: op.op_id or 0) if free else None


def _is_gone(client: WesogClient, image_id: str) -> bool:
    try:
        client.get_image(image_id, fields=("image_id",))
    except WesogNotFound:
        return True
    return False


def _settle_by_presence(deletion: DeletionRequest, gone: dict[int, bool]) -> None:
    """No operation found: gone images count as deleted, present ones as not carried out."""
    now = utcnow()
    deleted = [item_id for item_id, is_gone in gone.items() if is_gone]
    kept = [item_id for item_id, is_gone in gone.items() if not is_gone]
    items.set_outcome(deleted, "deleted", message=GONE, settled_at=now)
    items.set_outcome(kept, "failed", message=NOT_CARRIED_OUT, settled_at=now)
    nothing_sent = not items.any_sent(deletion.id)
    if nothing_sent and not any(gone.values()):
        dispatcher.reject(deletion, NOT_CARRIED_OUT, "system")
        return
    deletion.message = GONE if all(gone.values()) else "reconciled: some images are still there"
    _resume(deletion)
    settle_deletion(deletion, details={"reconciled": True})


def _resume(deletion: DeletionRequest) -> None:
    """Nothing is in doubt any more: back to sending the rest, or to watching the operations."""
    deletion.next_attempt_at = None
    deletion.state = "pending" if items.has_unsent(deletion.id) else "submitted"
    if deletion.state == "submitted":
        deletion.submitted_at = deletion.submitted_at or utcnow()


def _later(deletion_id: int, message: str) -> None:
    """Upstream could not be asked: try again after a back-off, keep the request unknown."""
    deletion = db.session.get(DeletionRequest, deletion_id)
    if deletion is None or deletion.state != "unknown":
        return
    deletion.attempts += 1
    delay = backoff_seconds(deletion.attempts)
    deletion.next_attempt_at = utcnow() + timedelta(seconds=delay)
    deletion.message = f"reconciling: {message}"
    db.session.commit()
