"""Stopping a deletion on failures (like S3 Batch Operations): when too many of its finished
images failed, its unsent chunks are dropped and it says why.
"""

from __future__ import annotations

from sqlalchemy import func, select

from ... import audit
from ...config import settings
from ...extensions import db
from ...models import DeletionRequest, Operation
from .. import items, lifecycle
from ..lifecycle import DISPATCHER
from ..queries import outcome_counts

FINISHED = ("deleted", "failed", "not_found")


def threshold(deletion: DeletionRequest) -> tuple[float, int]:
    """(failure ratio, minimum finished images) of this request, else the configured ones."""
    ratio = deletion.stop_ratio
    if ratio is None:
        ratio = settings().stop_failure_ratio
    minimum = deletion.stop_min_items
    if minimum is None:
        minimum = settings().stop_min_items
    return ratio, max(1, minimum)


def stop_reason(deletion: DeletionRequest) -> str | None:
    """Why this deletion must stop sending, or None while it may go on."""
    ratio, minimum = threshold(deletion)
    counts = outcome_counts(deletion.id)
    # Results as they arrive: the good ones of operations still running count already (their
    # failures are settled on the items as soon as upstream names them).
    finished = sum(counts.get(outcome, 0) for outcome in FINISHED) + _running_good(deletion.id)
    failed = counts.get("failed", 0)
    if finished < minimum or failed <= ratio * finished:
        return None
    return (
        f"stopped: {failed} of the {finished} finished images failed "
        f"({100 * failed / finished:.0f} %, more than {100 * ratio:.0f} % "
        f"after at least {minimum})"
    )


def stop_reach(item_count: int) -> str | None:
    """What the stop rule cannot do for a deletion of `item_count` images, said before anything
    is sent (None: a single image, nothing to say). It holds back chunks not sent yet; an
    operation already sent runs to its end."""
    if item_count <= 1:
        return None
    size = settings().chunk_size
    if item_count <= size:
        return (
            f"The stop rule cannot stop this deletion: its {item_count:,} images go in one "
            "operation, which runs to its end."
        )
    in_flight = settings().max_inflight_ops
    first = min(item_count, size * in_flight)
    return (
        f"The stop rule holds back chunks not sent yet (of {size:,} images each), checked as "
        f"results arrive: the first {first:,} images may be on their way before it can apply."
    )


def check(deletion: DeletionRequest, by: str) -> bool:
    """Apply the stop rule now (caller commits): True when it stopped the deletion. Only a
    deletion with chunks still to send can be stopped."""
    if deletion.state not in ("pending", "sending"):
        return False
    reason = stop_reason(deletion)
    return reason is not None and stop(deletion, reason, by)


def _running_good(deletion_id: int) -> int:
    query = select(func.coalesce(func.sum(Operation.num_good), 0)).where(
        Operation.deletion_id == deletion_id, Operation.is_finished.is_(False)
    )
    return int(db.session.scalar(query) or 0)


def drop_unsent(deletion: DeletionRequest, message: str) -> int:
    """Mark the items never handed to upstream `not_sent` (caller commits); how many."""
    return items.drop_unsent(deletion.id, message)


def stop(deletion: DeletionRequest, reason: str, by: str = DISPATCHER) -> bool:
    """Stop sending: unsent items are dropped, operations already sent run on and the request
    is `stopping` until they end (caller commits, then settles). False when not ours to stop."""
    if not lifecycle.move(deletion.id, "stop", by, message=reason, next_attempt_at=None):
        return False
    dropped = drop_unsent(deletion, "the deletion stopped on failures before sending it")
    audit.record(
        "deletion.stopped",
        actor="system",
        deletion_id=deletion.id,
        outcome="stopped",
        details={"reason": reason, "dropped": dropped},
    )
    return True
