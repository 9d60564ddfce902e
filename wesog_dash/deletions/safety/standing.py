"""Where a deletion stands for its safety net: what may be done with it now (undo, pause,
resume, cancel, retry, restore), the failure threshold it runs under, and its retry links.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select

from ...extensions import db
from ...models import DeletionRequest, ImageSnapshot, utcnow
from ..lifecycle import CANCELLABLE, PAUSABLE
from ..outcomes.stopping import stop_reach, threshold
from .control import unsent_count
from .report import failed_id_text
from .restore import restorable_count

MAX_UNRESTORABLE_SHOWN = 50


@dataclass(frozen=True)
class Standing:
    """What the deletion page and card offer now, computed from the database."""

    seconds_left: int | None  # in the undo window: seconds until it is sent
    unsent: int
    can_pause: bool
    can_resume: bool
    can_cancel: bool
    failed_ids: str  # one per line, for "Copy failed ids" and Retry
    restorable: int
    unrestorable: list[tuple[str, str]]  # (image id, why), the first MAX_UNRESTORABLE_SHOWN
    unrestorable_total: int
    stop_ratio: float
    stop_min_items: int
    stop_reach: str | None  # what the stop rule cannot do for this deletion
    retries: list[int]

    @property
    def failed(self) -> int:
        """How many images failed (and can be retried)."""
        return len(self.failed_ids.splitlines())


def seconds_left(deletion: DeletionRequest) -> int | None:
    """Whole seconds left in the undo window (None when it is not in one)."""
    if deletion.state != "scheduled" or deletion.send_at is None:
        return None
    return max(0, math.ceil((deletion.send_at - utcnow()).total_seconds()))


def _unrestorable(deletion_id: int) -> tuple[list[tuple[str, str]], int]:
    # `problem` marks a snapshot without metadata (a JSON column may store None as 'null').
    condition = (ImageSnapshot.deletion_id == deletion_id, ImageSnapshot.problem.is_not(None))
    total = db.session.scalar(select(func.count()).where(*condition)) or 0
    rows = db.session.execute(
        select(ImageSnapshot.image_id, ImageSnapshot.problem)
        .where(*condition)
        .order_by(ImageSnapshot.id)
        .limit(MAX_UNRESTORABLE_SHOWN)
    )
    return [(image_id, problem or "not read") for image_id, problem in rows], int(total)


def standing(deletion: DeletionRequest) -> Standing:
    """The safety-net view of one deletion."""
    unsent = unsent_count(deletion)
    queued = any(not op.is_started and not op.is_finished for op in deletion.operations)
    cancellable = deletion.state in CANCELLABLE and (deletion.state != "submitted" or queued)
    unrestorable, total = _unrestorable(deletion.id)
    ratio, minimum = threshold(deletion)
    return Standing(
        seconds_left=seconds_left(deletion),
        unsent=unsent,
        can_pause=deletion.state in PAUSABLE and unsent > 0,
        can_resume=deletion.state in ("paused", "pausing"),
        can_cancel=cancellable,
        failed_ids=failed_id_text(deletion.id),
        restorable=restorable_count(deletion.id),
        unrestorable=unrestorable,
        unrestorable_total=total,
        stop_ratio=ratio,
        stop_min_items=minimum,
        stop_reach=stop_reach(deletion.item_count),
        retries=[child.id for child in deletion.retries],
    )
