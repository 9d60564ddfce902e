"""Bringing deleted images back from their snapshots: one `POST /imgs` operation (method
`add`, strict: it never overwrites an image that exists again), watched by the poller like any
other. Restores are audited; old snapshots are pruned after WESOG_SNAPSHOT_DAYS.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select, update

from ... import audit
from ...config import settings
from ...extensions import db
from ...models import DeletionItem, ImageSnapshot, Operation, utcnow
from ...operations import record_snapshot
from ...upstream import upstream_call, wesog_client
from ...wesog.types import INPUT_FIELDS
from ..items import batches


class RestoreError(ValueError):
    """Nothing can be restored from what was asked; the message says why."""


def restore_body(snapshot: ImageSnapshot) -> dict[str, Any]:
    """The batch element re-adding the image: its id and every input field it had."""
    data = snapshot.data or {}
    fields = {name: data[name] for name in INPUT_FIELDS if data.get(name) is not None}
    return {"id": snapshot.image_id, **fields}


def restore_problem(snapshot: ImageSnapshot) -> str | None:
    """Why this snapshot cannot be restored now (None: it can)."""
    if snapshot.data is None or snapshot.problem is not None:
        return f"cannot be restored: {snapshot.problem or 'its metadata was not read'}"
    if not snapshot.data.get("src"):
        return "cannot be restored: the API gave it no src"
    outcome = db.session.scalar(
        select(DeletionItem.outcome)
        .where(
            DeletionItem.deletion_id == snapshot.deletion_id,
            DeletionItem.image_id == snapshot.image_id,
        )
        .limit(1)
    )
    if outcome != "deleted":
        return (
            "nothing to restore: this deletion did not delete it"
            if outcome not in ("pending", "unknown")
            else "its deletion has not finished yet"
        )
    op = snapshot.restore_operation
    if snapshot.restore_op_id and not (op is not None and op.is_finished and op.num_bad):
        return "already restored (or being restored)"
    if snapshot.restored_at and not snapshot.restore_op_id:
        return "being restored"  # claimed by a restore whose call is under way
    return None


def _restorable(deletion_id: int) -> Select[ImageSnapshot]:
    """The same rules as `restore_problem`, as one query: metadata kept (no `problem`), the
    image deleted by this request, and no restore yet unless the last one failed."""
    failed_restores = select(Operation.op_id).where(
        Operation.is_finished.is_(True), Operation.num_bad > 0
    )
    item = and_(
        DeletionItem.deletion_id == ImageSnapshot.deletion_id,
        DeletionItem.image_id == ImageSnapshot.image_id,
    )
    query = (
        select(ImageSnapshot)
        .join(DeletionItem, item)
        .where(
            ImageSnapshot.deletion_id == deletion_id,
            ImageSnapshot.problem.is_(None),
            DeletionItem.outcome == "deleted",
            or_(
                and_(ImageSnapshot.restore_op_id.is_(None), ImageSnapshot.restored_at.is_(None)),
                ImageSnapshot.restore_op_id.in_(failed_restores),
            ),
        )
        .order_by(ImageSnapshot.id)
    )
    return query


def restorable(deletion_id: int) -> list[ImageSnapshot]:
    """Snapshots of a deletion's deleted images that can be restored now."""
    return list(db.session.scalars(_restorable(deletion_id)))


def restorable_count(deletion_id: int) -> int:
    """How many of a deletion's deleted images can be restored now (counted by the database)."""
    query = _restorable(deletion_id).with_only_columns(func.count(ImageSnapshot.id))
    return int(db.session.scalar(query.order_by(None)) or 0)


def restore(snapshot_ids: list[int], actor: str) -> Operation:
    """Re-add these snapshots' images in one operation (commits); RestoreError, UpstreamProblem."""
    snapshots = [db.session.get(ImageSnapshot, i) for i in dict.fromkeys(snapshot_ids)]
    chosen = [s for s in snapshots if s is not None and restore_problem(s) is None]
    if not chosen:
        found = [s for s in snapshots if s is not None]
        raise RestoreError(restore_problem(found[0]) if found else "Nothing to restore.")
    token = _claim([s.id for s in chosen])
    chosen = [s for s in chosen if s.restored_by == token]
    if not chosen:
        raise RestoreError("already restored (or being restored)")
    body = [restore_body(snapshot) for snapshot in chosen]
    ids = [(s.id, s.deletion_id, s.image_id) for s in chosen]
    db.session.commit()  # no transaction stays open while we wait for the network
    try:
        with upstream_call("POST /imgs"):
            op = wesog_client().add_images(body, strict=True)
    except BaseException:
        _release(token)
        raise
    row = record_snapshot(op, origin="dashboard")
    now = utcnow()
    for snapshot_id, _, _ in ids:
        snapshot = db.session.get(ImageSnapshot, snapshot_id)
        assert snapshot is not None
        snapshot.restored_at, snapshot.restored_by, snapshot.restore_op_id = now, actor, row.op_id
    audit.record(
        "image.restore_requested",
        actor=actor,
        op_id=row.op_id,
        deletion_id=ids[0][1],
        image_id=ids[0][2] if len(ids) == 1 else None,
        details={"images": len(ids), "image_ids": [image_id for _, _, image_id in ids][:100]},
    )
    db.session.commit()
    return row


def _claim(snapshot_ids: list[int]) -> str:
    """Claim the snapshots still restorable for this restore (one conditional UPDATE, in its
    own commit): a parallel restore of the same images claims none. Returns the claim token,
    held in `restored_by` until the call is answered."""
    token = f"claim:{uuid.uuid4().hex}"
    failed = select(Operation.op_id).where(Operation.is_finished.is_(True), Operation.num_bad > 0)
    for batch in batches(snapshot_ids):
        db.session.execute(
            update(ImageSnapshot)
            .where(
                ImageSnapshot.id.in_(batch),
                or_(
                    and_(
                        ImageSnapshot.restore_op_id.is_(None), ImageSnapshot.restored_at.is_(None)
                    ),
                    ImageSnapshot.restore_op_id.in_(failed),
                ),
            )
            .values(restored_at=utcnow(), restored_by=token, restore_op_id=None)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    db.session.expire_all()
    return token


def _release(token: str) -> None:
    """The restore was not sent: its snapshots are restorable again."""
    db.session.rollback()
    db.session.execute(
        update(ImageSnapshot)
        .where(ImageSnapshot.restored_by == token)
        .values(restored_at=None, restored_by=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def snapshots_of(image_id: str) -> list[ImageSnapshot]:
    """Every snapshot kept of one image id, oldest first."""
    query = select(ImageSnapshot).where(ImageSnapshot.image_id == image_id)
    return list(db.session.scalars(query.order_by(ImageSnapshot.id)))


def prune_snapshots(days: int | None = None, actor: str = "system") -> int:
    """Delete snapshots older than `days` (WESOG_SNAPSHOT_DAYS); how many (commits)."""
    keep_days = settings().snapshot_days if days is None else days
    cutoff = utcnow() - timedelta(days=keep_days)
    result = db.session.execute(delete(ImageSnapshot).where(ImageSnapshot.taken_at < cutoff))
    count = int(getattr(result, "rowcount", 0) or 0)
    audit.record("snapshot.pruned", actor=actor, details={"days": keep_days, "deleted": count})
    db.session.commit()
    return count
