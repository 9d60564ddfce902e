"""Evidence about a DELETE whose answer we lost: which upstream operation could be it, and
what each image's current state says.

A candidate is a `del` operation of the same size and options, created after the request
(minus clock skew), that no other deletion of ours owns. It is *consistent* once finished
when what it reports matches the images: every image it did not report as failed is gone,
and its errors name only our images. Only a consistent candidate that no other `unknown`
deletion of ours could also own is linked (see `reconciler`); anything less is inferred.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ...extensions import db
from ...inputs import whole_number
from ...models import DeletionItem, DeletionRequest, Operation
from ...operations.identity import same_incarnation
from ...wesog import OperationSnapshot, WesogClient, WesogNotFound

CLOCK_SKEW = timedelta(seconds=30)  # upstream's clock may run a little behind ours


@dataclass(frozen=True)
class Shape:
    """What our lost DELETE looked like: its size, options and earliest creation time."""

    size: int
    since: datetime
    options: tuple[bool, bool, bool]

    @classmethod
    def of(cls, deletion: DeletionRequest, size: int) -> Shape:
        """The shape of a chunk of `size` ids of `deletion`."""
        options = (deletion.do_wait, deletion.do_urgent, deletion.do_strict)
        return cls(size, deletion.created_at - CLOCK_SKEW, options)

    def fits(self, op: OperationSnapshot) -> bool:
        """True when `op` could be this DELETE."""
        return (
            op.op_id is not None
            and op.method == "del"
            and op.num_total == self.size
            and op.created_at is not None
            and op.created_at >= self.since
            and (op.do_wait, op.do_urgent, op.do_strict) == self.options
        )


def candidates(
    listed: list[OperationSnapshot], shape: Shape, deletion_id: int
) -> list[OperationSnapshot]:
    """Listed operations that fit `shape` and that no other deletion of ours owns."""
    return [op for op in listed if shape.fits(op) and not owned_elsewhere(op, deletion_id)]


def owned_elsewhere(op: OperationSnapshot, deletion_id: int) -> bool:
    """True when our row for this very operation (same id, same creation) has another owner."""
    row = db.session.get(Operation, op.op_id)
    if row is None or not same_incarnation(row.created_at, op.created_at):
        return False
    return row.deletion_id is not None and row.deletion_id != deletion_id


def rivals(deletion: DeletionRequest, op: OperationSnapshot) -> list[int]:
    """Other `unknown` deletions of ours that could also own `op`: same options, requested
    before it was created (plus skew), with exactly as many unlinked ids in doubt."""
    assert op.created_at is not None
    in_doubt = (
        select(func.count(DeletionItem.id))
        .where(
            DeletionItem.deletion_id == DeletionRequest.id,
            DeletionItem.outcome == "unknown",
            DeletionItem.op_id.is_(None),
        )
        .scalar_subquery()
    )
    query = select(DeletionRequest.id).where(
        DeletionRequest.state == "unknown",
        DeletionRequest.id != deletion.id,
        DeletionRequest.do_wait.is_(op.do_wait),
        DeletionRequest.do_urgent.is_(op.do_urgent),
        DeletionRequest.do_strict.is_(op.do_strict),
        DeletionRequest.created_at <= op.created_at + CLOCK_SKEW,
        in_doubt == op.num_total,
    )
    return list(db.session.scalars(query))


def consistent(op: OperationSnapshot, doubt: list[tuple[int, str]], gone: dict[int, bool]) -> bool:
    """A finished candidate can be ours only if the images agree with what it reports."""
    names = {image_id for _, image_id in doubt}
    failed: set[str] = set()
    for error in op.errors:
        if error.id in names:
            failed.add(error.id)
        elif (index := whole_number(error.id, maximum=len(doubt) - 1)) is not None:  # §7 #9
            failed.add(doubt[index][1])
        else:
            return False  # it failed on an image that is not ours: another request
    return all(gone[item_id] for item_id, image_id in doubt if image_id not in failed)


def is_gone(client: WesogClient, image_id: str) -> bool:
    """True when `GET /imgs/{id}` answers 404 (other errors propagate)."""
    try:
        client.get_image(image_id, fields=("image_id",))
    except WesogNotFound:
        return True
    return False
